/**
 * `lading image add|wait|list|get|content|metadata|vuln|sbom|import|del`: the catalog of a running Lading
 * service, as anchore-cli's `image` group (reference §6.2).
 */
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { LadingError, unreadable } from '../../errors.js';
import { addConnectionOptions } from './connection.js';
import { ServiceError, seg } from './http.js';
import { classifyImage, getImage, imagesByTag, resolveImage } from './images.js';
import { block, parseBool, parseSeconds, show, sleep, sortedTable, success, withService } from './output.js';
import type { AnchoreImage, VulnItem } from './shapes.js';
import { severityRank, type Severity } from '../../feeds/model.js';

/** anchore-cli's image_get block: the record, then each tag. */
export function imageText(records: AnchoreImage[]): string {
  let out = '';
  for (const img of records) {
    const md = img.image_content?.metadata ?? undefined;
    const pairs: [string, unknown][] = [
      ['Image Digest', img.imageDigest],
      ...(img.parentDigest ? [['Parent Digest', img.parentDigest] as [string, unknown]] : []),
      ['Analysis Status', img.analysis_status],
      ...(img.analysis_error ? [['Analysis Error', img.analysis_error] as [string, unknown]] : []),
      ['Image Type', img.image_type],
      ['Analyzed At', img.analyzed_at],
      ['Image ID', img.image_detail[0]?.imageId],
    ];
    if (md) {
      pairs.push(['Dockerfile Mode', md.dockerfile_mode], ['Distro', md.distro], ['Distro Version', md.distro_version],
        ['Size', md.image_size], ['Architecture', md.arch], ['Layer Count', md.layer_count]);
    }
    if (img.annotations && Object.keys(img.annotations).length) {
      pairs.push(['Annotations', Object.entries(img.annotations).map(([k, v]) => `${k}=${show(v)}`).join(', ')]);
    }
    out += block(pairs);
    for (const d of img.image_detail) out += block([['Full Tag', d.fulltag], ['Tag Detected At', d.tag_detected_at]]);
  }
  return out;
}

/** Without --show-all, only the newest record of each tag (as anchore-cli filtered). */
function latestPerTag(records: AnchoreImage[]): AnchoreImage[] {
  const latest = new Map<string, { img: AnchoreImage; at: string }>();
  for (const img of records) {
    for (const d of img.image_detail) {
      const at = d.created_at ?? '';
      const seen = latest.get(d.fulltag);
      if (!seen || at >= seen.at) latest.set(d.fulltag, { img, at });
    }
  }
  return [...new Set([...latest.values()].map((v) => v.img))];
}

function listText(records: AnchoreImage[], full: boolean): string {
  const head = ['Full Tag', 'Image Digest', 'Analysis Status', ...(full ? ['Image ID'] : [])];
  const rows: unknown[][] = [];
  const seen = new Set<string>();
  for (const img of records) {
    for (const d of img.image_detail) {
      const row = [d.fulltag, img.imageDigest, img.analysis_status, ...(full ? [d.imageId] : [])];
      const key = JSON.stringify(row);
      if (!seen.has(key)) {
        seen.add(key);
        rows.push(row);
      }
    }
  }
  return sortedTable(head, rows, 'Full Tag');
}

export function vulnText(items: VulnItem[]): string {
  const sorted = [...items].sort((a, b) => severityRank(b.severity as Severity) - severityRank(a.severity as Severity) || a.vuln.localeCompare(b.vuln));
  return sortedTable(
    ['Vulnerability ID', 'Package', 'Severity', 'Fix', 'CVE Refs', 'Vulnerability URL', 'Type', 'Feed Group', 'Package Path'],
    sorted.map((v) => [v.vuln, v.package, v.severity, v.fix, (v.nvd_data ?? []).map((n) => n.id).filter(Boolean).join(','), v.url, v.package_type, v.feed_group, v.package_path]),
  );
}

function available(types: string[]): string {
  return `${types.map((t) => `${t}: available`).join('\n')}\n\n`;
}

type Row = Record<string, unknown>;

function decode64(v: unknown): string {
  const s = Array.isArray(v) ? v.join('') : typeof v === 'string' ? v : '';
  return Buffer.from(s, 'base64').toString('utf8');
}

/** anchore-cli's content tables per type. */
export function contentText(type: string, content: unknown): string {
  if (['manifest', 'dockerfile', 'docker_history'].includes(type)) return withNewline(decode64(content));
  const items = (Array.isArray(content) ? content : []) as Row[];
  if (type === 'os') return sortedTable(['Package', 'Version', 'Licenses'], items.map((p) => [p.package, p.version, Array.isArray(p.licenses) && p.licenses.length ? p.licenses.join(' ') : p.license]), 'Package');
  if (type === 'files') {
    const rows = [...items].sort((a, b) => Number(b.size ?? 0) - Number(a.size ?? 0)).map((f) => [f.filename, f.size]);
    return sortedTable(['Filename', 'Size'], rows);
  }
  if (type === 'java') return sortedTable(['Package', 'Specification-Version', 'Implementation-Version', 'Location'], items.map((p) => [p.package, p['specification-version'], p['implementation-version'], p.location]), 'Package');
  if (type === 'malware') {
    const rows = items.flatMap((scan) => ((scan.findings ?? []) as Row[]).map((f) => [scan.scanner, f.signature, f.path]));
    return sortedTable(['Scanner', 'Matched Signature', 'Path'], rows);
  }
  if (!items.length) return '';
  if (items.every((p) => 'package' in p && 'version' in p && 'location' in p)) {
    return sortedTable(['Package', 'Version', 'Location'], items.map((p) => [p.package, p.version, p.location]), 'Package');
  }
  const head = Object.keys(items[0]!);
  return sortedTable(head, items.map((p) => head.map((k) => p[k])));
}

function withNewline(s: string): string {
  return s.endsWith('\n') || !s ? s : `${s}\n`;
}

function annotation(v: string, prev: Record<string, string> | undefined): Record<string, string> {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got "${v}"`);
  return { ...prev, [v.slice(0, eq)]: v.slice(eq + 1) };
}

async function readDockerfile(path: string): Promise<string> {
  const text = await readFile(path).catch(unreadable(`the Dockerfile ${path}`));
  return text.toString('base64');
}

export function addServiceImageCommands(image: Command): void {
  addAnalyzeCommands(image);
  addLookupCommands(image);
  addDeleteCommand(image);
}

interface AddOptions {
  force?: boolean; dockerfile?: string; annotation?: Record<string, string>; noautosubscribe?: boolean; platform?: string; allPlatforms?: boolean;
}

/** `image add` and `image wait`: queue an analysis and wait for it. */
function addAnalyzeCommands(image: Command): void {
  addConnectionOptions(image.command('add').argument('<image>', 'registry/repo:tag to analyze'))
    .description('add an image to the service\'s catalog and queue its analysis')
    .option('--force', 'analyze again even if already analyzed')
    .option('--dockerfile <file>', 'the Dockerfile the image was built from')
    .option('--annotation <key=value>', 'annotation to store with the image (repeatable)', annotation)
    .option('--noautosubscribe', 'do not activate the tag_update subscription (watching the tag for new digests)')
    .option('--platform <os/arch[/variant]>', 'the platform to add from a multi-platform image (default linux/amd64)')
    .option('--all-platforms', 'add every platform of a multi-platform image (one image each)')
    .action(async (input: string, o: AddOptions, cmd: Command) => {
      if (o.platform && o.allPlatforms) throw new LadingError('BAD_INPUT', '--platform and --all-platforms are exclusive');
      const dockerfile = o.dockerfile ? await readDockerfile(o.dockerfile) : undefined;
      await withService(cmd, async (svc) => {
        const body = { tag: input, ...(dockerfile ? { dockerfile } : {}), ...(o.annotation ? { annotations: o.annotation } : {}) };
        const query = { autosubscribe: !o.noautosubscribe, force: o.force ? true : undefined, platform: o.platform, all_platforms: o.allPlatforms ? true : undefined };
        const added = await svc.client.post<AnchoreImage[]>('/images', body, query);
        svc.print(added, () => imageText(added));
      });
    });

  addConnectionOptions(image.command('wait').argument('<image>', 'tag, digest or image id'))
    .description('wait until an image is analyzed (exit 1 if its analysis failed)')
    .option('--timeout <seconds>', 'give up after this long (-1: never)', parseSeconds('--timeout', true), -1)
    .option('--interval <seconds>', 'time between checks', parseSeconds('--interval'), 5)
    .action(async (input: string, o: { timeout: number; interval: number }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const start = Date.now();
        for (;;) {
          const img = await getImage(svc.client, input);
          if (img.analysis_status === 'analyzed') {
            svc.print([img], () => imageText([img]));
            return;
          }
          if (img.analysis_status === 'analysis_failed') {
            svc.print([img], () => imageText([img]));
            throw new ServiceError(1, 'INTERNAL', `analysis of ${input} failed${img.analysis_error ? `: ${img.analysis_error}` : ''}`);
          }
          const left = o.timeout < 0 ? undefined : o.timeout - (Date.now() - start) / 1000;
          if (left !== undefined && left <= 0) throw new ServiceError(2, 'INTERNAL', `timed out after ${o.timeout}s waiting for ${input} to be analyzed (status ${img.analysis_status})`);
          process.stderr.write(`Status: ${img.analysis_status}\nWaiting ${o.interval} seconds for next retry.${left !== undefined ? ` Total timeout remaining: ${Math.floor(left)}` : ''}\n`);
          await sleep(left !== undefined ? Math.min(o.interval, left) : o.interval);
        }
      });
    });
}

/** `image list`, `get`, `content`, `metadata` and `vuln`: read the catalog and the analysis results. */
function addLookupCommands(image: Command): void {
  addConnectionOptions(image.command('list'))
    .description('list the images in the catalog (the newest image of each tag)')
    .option('--full', 'also show image ids')
    .option('--show-all', 'every image, not only the newest of each tag')
    .action(async (o: { full?: boolean; showAll?: boolean }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const records = await svc.client.get<AnchoreImage[]>('/images');
        svc.print(records, () => listText(o.showAll ? records : latestPerTag(records), o.full === true));
      });
    });

  addConnectionOptions(image.command('get').argument('<image>', 'tag, digest or image id'))
    .description('show an image record')
    .option('--show-history', 'every image the tag has pointed to')
    .action(async (input: string, o: { showHistory?: boolean }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const i = classifyImage(input);
        const records = i.kind === 'tag' && o.showHistory ? await imagesByTag(svc.client, i.tag, true) : [await getImage(svc.client, input)];
        if (!records.length) throw new ServiceError(1, 'NOT_FOUND', `image ${input} is not in the catalog`);
        svc.print(records, () => imageText(records));
      });
    });

  addConnectionOptions(image.command('content').argument('<image>', 'tag, digest or image id').argument('[type]', 'content type (os, files, npm, gem, python, java, go, binary, malware, ...); none: list the types'))
    .description('the packages and files found in an analyzed image')
    .action(async (input: string, type: string | undefined, _o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const { digest } = await resolveImage(svc.client, input);
        if (!type) {
          const types = await svc.client.get<string[]>(`/images/${seg(digest)}/content`);
          svc.print(types, () => available(types));
          return;
        }
        const r = await svc.client.get<{ content: unknown }>(`/images/${seg(digest)}/content/${seg(type)}`);
        svc.print(r, () => contentText(type, r.content));
      });
    });

  addConnectionOptions(image.command('metadata').argument('<image>', 'tag, digest or image id').argument('[type]', 'manifest, docker_history or dockerfile; none: list the types'))
    .description('an image\'s manifest, history or Dockerfile (decoded)')
    .action(async (input: string, type: string | undefined, _o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const { digest } = await resolveImage(svc.client, input);
        if (!type) {
          const types = await svc.client.get<string[]>(`/images/${seg(digest)}/metadata`);
          svc.print(types, () => available(types));
          return;
        }
        const r = await svc.client.get<{ metadata?: unknown }>(`/images/${seg(digest)}/metadata/${seg(type)}`);
        svc.print(r, () => withNewline(decode64(r.metadata)));
      });
    });

  addConnectionOptions(image.command('vuln').argument('<image>', 'tag, digest or image id').addArgument(new Argument('[type]', 'os, non-os or all; none: list the types').choices(['os', 'non-os', 'all'])))
    .description('the vulnerabilities found in an analyzed image')
    .addOption(new Option('--vendor-only <bool>', 'leave out what the vendor will not fix').argParser(parseBool).default(true))
    .action(async (input: string, type: string | undefined, o: { vendorOnly: boolean }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const { digest } = await resolveImage(svc.client, input);
        if (!type) {
          const types = await svc.client.get<string[]>(`/images/${seg(digest)}/vuln`);
          svc.print(types, () => available(types));
          return;
        }
        const r = await svc.client.get<{ vulnerabilities: VulnItem[] }>(`/images/${seg(digest)}/vuln/${seg(type)}`, { vendor_only: o.vendorOnly });
        svc.print(r, () => vulnText(r.vulnerabilities));
      });
    });
}

/** `image del`. */
function addDeleteCommand(image: Command): void {
  addConnectionOptions(image.command('del').argument('<image>', 'tag, digest or image id'))
    .description('delete an image from the catalog')
    .option('--force', 'delete even while it is being analyzed')
    .action(async (input: string, o: { force?: boolean }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const { digest } = await resolveImage(svc.client, input);
        const r = await svc.client.delete<unknown>(`/images/${seg(digest)}`, o.force ? { force: true } : undefined);
        svc.print(r, () => success());
      });
    });
}
