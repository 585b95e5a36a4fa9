/**
 * The image under evaluation, as the gates see it: the SBOM (packages, files, findings, image
 * metadata), the vulnerability scan when one could be made, and data derived from them once
 * (file index, prepared Dockerfile, /etc/passwd entries).
 */
import type { FileEntry, Package, RetrievedFile, Sbom } from '../sbom/model.js';
import type { ScanResult } from '../vulns/model.js';
import { prepareDockerfile, type PreparedDockerfile } from './dockerfile.js';

export interface PolicyInput {
  sbom: Sbom;
  /** The vulnerability scan of this SBOM; undefined when no vulnerability database was available. */
  scan: ScanResult | undefined;
  /** Malware scanner results, when a scanner ran (Lading has none yet). */
  malwareScans?: MalwareScan[];
}

export interface MalwareScan {
  /** The scanner's name, e.g. `clamav`. */
  scanner: string;
  findings: { path: string; signature: string }[];
}

/** A trigger needs data the analysis or the environment does not have: the rule is reported, not passed. */
export class DataUnavailableError extends Error {}

const TYPE_BITS: Record<FileEntry['type'], number> = {
  file: 0o100000, hardlink: 0o100000, dir: 0o040000, symlink: 0o120000, char: 0o020000, block: 0o060000, fifo: 0o010000,
};

/** The mode with its file-type bits, as Anchore stored it (`0o104755` for a setuid program). */
export function fullMode(f: FileEntry): number {
  return TYPE_BITS[f.type] | (f.mode & 0o7777);
}

export class Subject {
  readonly sbom: Sbom;
  readonly scan: ScanResult | undefined;
  readonly now: Date;
  readonly malwareScans: MalwareScan[] | undefined;
  private fileIndex?: Map<string, FileEntry>;
  private sortedFiles?: FileEntry[];
  private df?: PreparedDockerfile;
  private passwdEntries?: Map<string, string[]> | null;
  private sortedPackages?: Package[];

  constructor(input: PolicyInput, now: Date) {
    this.sbom = input.sbom;
    this.scan = input.scan;
    this.now = now;
    this.malwareScans = input.malwareScans;
  }

  /** Image id as Anchore writes it: 64 hex characters, no algorithm prefix. */
  get imageId(): string {
    return this.sbom.source.imageId.replace(/^sha256:/, '');
  }

  get digest(): string | undefined {
    return this.sbom.source.manifestDigest;
  }

  files(): Map<string, FileEntry> {
    this.fileIndex ??= new Map(this.sbom.files.map((f) => [f.path, f]));
    return this.fileIndex;
  }

  /** Every file record, sorted by path. */
  fileList(): FileEntry[] {
    this.sortedFiles ??= [...this.sbom.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return this.sortedFiles;
  }

  /** The entry at a path, following symlinked parent directories (`/bin/sh` when `/bin` → `usr/bin`). */
  resolve(path: string): FileEntry | undefined {
    const files = this.files();
    const direct = files.get(path);
    if (direct) return direct;
    let parts = path.split('/').filter(Boolean);
    for (let hops = 0; hops < 40; hops++) {
      let changed = false;
      for (let i = 1; i < parts.length; i++) {
        const prefix = `/${parts.slice(0, i).join('/')}`;
        const e = files.get(prefix);
        if (e?.type === 'symlink' && e.linkTarget !== undefined) {
          const base = e.linkTarget.startsWith('/') ? [] : parts.slice(0, i - 1);
          const target = [...base, ...e.linkTarget.split('/')].filter((p) => p && p !== '.');
          const norm: string[] = [];
          for (const p of target) if (p === '..') norm.pop(); else norm.push(p);
          parts = [...norm, ...parts.slice(i)];
          changed = true;
          break;
        }
      }
      const found = files.get(`/${parts.join('/')}`);
      if (found) return found;
      if (!changed) return undefined;
    }
    return undefined;
  }

  dockerfile(): PreparedDockerfile {
    this.df ??= prepareDockerfile(this.sbom.source);
    return this.df;
  }

  retrievedFile(path: string): RetrievedFile | undefined {
    return this.sbom.retrievedFiles.find((f) => f.path === path);
  }

  retrievedText(f: RetrievedFile): string {
    return Buffer.from(f.contentBase64, 'base64').toString('utf8');
  }

  /** /etc/passwd as user → the other fields; undefined when it was not retrieved (or is empty). */
  passwd(): Map<string, string[]> | undefined {
    if (this.passwdEntries === undefined) {
      const f = this.retrievedFile('/etc/passwd');
      const entries = new Map<string, string[]>();
      if (f) {
        for (const raw of this.retrievedText(f).split(/\r\n|\r|\n/)) {
          const line = raw.trim();
          if (!line) continue;
          const [user, ...rest] = line.split(':');
          entries.set(user!, rest);
        }
      }
      this.passwdEntries = entries.size ? entries : null;
    }
    return this.passwdEntries ?? undefined;
  }

  /** Every package, sorted by name then version then location (a stable order for messages). */
  packages(): Package[] {
    this.sortedPackages ??= [...this.sbom.packages].sort((a, b) =>
      cmp(a.name, b.name) || cmp(a.version, b.version) || cmp(a.locations[0]?.path ?? '', b.locations[0]?.path ?? ''));
    return this.sortedPackages;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
