/**
 * Bundler's `Gemfile.lock`: the `specs:` of its GEM, GIT, PATH and PLUGIN SOURCE sections list
 * every resolved gem as a 4-space-indented `name (version)` line (6-space lines below are that
 * gem's own requirements). A platform-specific gem reads `nokogiri (1.15.4-x86_64-linux)`:
 * version 1.15.4, platform x86_64-linux. Lock files inside installed gems' own source trees
 * (`gems/<name>-<version>/Gemfile.lock`) are the gem author's, not the image's, and are skipped.
 */
import type { Analyzer, InputFile } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { gemPackage } from './gem.js';

const SOURCES: Record<string, string> = { 'GEM': 'rubygems', 'GIT': 'git', 'PATH': 'path', 'PLUGIN SOURCE': 'plugin' };

interface Found {
  name: string;
  version: string;
  platforms: string[];
  source: string;
  remote?: string;
  revision?: string;
}

function parseLock(text: string, path: string, warn: (m: string) => void): Found[] {
  const found = new Map<string, Found>();
  let source: string | undefined;
  let remote: string | undefined;
  let revision: string | undefined;
  let inSpecs = false;
  let bad = 0;
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trimEnd();
    if (!line) continue;
    if (!/^\s/.test(line)) {
      source = SOURCES[line];
      remote = revision = undefined;
      inSpecs = false;
      continue;
    }
    if (!source) continue;
    const option = /^ {2}(\w+):(?: (.*))?$/.exec(line);
    if (option) {
      if (option[1] === 'remote') remote = option[2];
      if (option[1] === 'revision') revision = option[2];
      inSpecs = option[1] === 'specs';
      continue;
    }
    if (!inSpecs || /^ {6}/.test(line)) continue;
    const spec = /^ {4}([^\s(]+) \(([^)\s]+)\)$/.exec(line);
    if (!spec?.[1] || !spec[2]) {
      if (bad++ === 0) warn(`${path}:${i + 1}: unreadable spec line: ${line.trim().slice(0, 80)}`);
      continue;
    }
    const dash = spec[2].indexOf('-');
    const version = dash < 0 ? spec[2] : spec[2].slice(0, dash);
    const platform = dash < 0 ? undefined : spec[2].slice(dash + 1);
    const key = `${spec[1]}@${version}`;
    const prev = found.get(key);
    if (prev) {
      if (platform && !prev.platforms.includes(platform)) prev.platforms.push(platform);
      continue;
    }
    found.set(key, {
      name: spec[1],
      version,
      platforms: platform ? [platform] : [],
      source,
      ...(remote ? { remote } : {}),
      ...(revision ? { revision } : {}),
    });
  }
  return [...found.values()];
}

async function analyzeFile(file: InputFile, warn: (m: string) => void): Promise<Package[]> {
  const text = (await file.read()).toString('utf8');
  const found = parseLock(text, file.path, warn);
  if (!found.length && !/^(GEM|GIT|PATH|PLUGIN SOURCE)$/m.test(text)) {
    warn(`${file.path}: no GEM, GIT or PATH section; not a Gemfile.lock, skipped`);
    return [];
  }
  return found.map((f) => gemPackage({
    name: f.name,
    version: f.version,
    licenses: [],
    file,
    foundBy: 'gemfile-lock',
    metadata: {
      platform: f.platforms[0],
      platforms: f.platforms.length > 1 ? f.platforms : undefined,
      source: f.source,
      remote: f.remote,
      revision: f.revision,
    },
  }));
}

export const gemfileLockAnalyzer: Analyzer = {
  name: 'gemfile-lock',
  wants: {
    match: (p) => (p.endsWith('.lock') || p.endsWith('.locked')) && /(?:^|\/)(?:Gemfile\.lock|gems\.locked)$/.test(p) && !/\/gems\/[^/]+-\d[^/]*\//.test(p),
    maxBytes: 16 * 1024 * 1024,
  },
  async analyze(ctx) {
    const packages: Package[] = [];
    for (const file of ctx.files) packages.push(...await analyzeFile(file, ctx.warn));
    return { packages };
  },
};
