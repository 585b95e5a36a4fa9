/**
 * `lading analysis-archive images add|list|get|del|export|import`: the analysis archive of a Lading
 * service, named after anchore-cli's `analysis-archive images` commands (`/archives/images`).
 * `export` (Lading's) downloads an archived analysis as the tar.gz Anchore's archive format uses
 * (`GET /archives/images/{digest}/export`); `import` uploads such a file, from Lading or from Anchore
 * Engine, and restores the image analyzed, with its evaluation history (`POST /import/images`,
 * anchore-cli's import_image_archive; the file is streamed, not read into memory).
 */
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { LadingError, unreadable } from '../../errors.js';
import { addConnectionOptions } from '../client/connection.js';
import { seg } from '../client/http.js';
import { block, sortedTable, success, withService } from '../client/output.js';
import type { AnchoreImage } from '../client/shapes.js';
import { imageText } from '../client/image-commands.js';

/** An archived analysis as GET /archives/images answers it. */
export interface ArchivedAnalysis {
  imageDigest: string;
  status: string;
  image_detail?: { pullstring?: string }[];
  archive_size_bytes?: number;
  analyzed_at?: string | null;
  created_at?: string | null;
}

function digestArg(v: string): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(v)) throw new InvalidArgumentError('expected an image digest, sha256:<64 hex digits>');
  return v;
}

const tagsOf = (a: ArchivedAnalysis) => (a.image_detail ?? []).map((d) => d.pullstring).filter(Boolean).join(',');

export function archivedText(items: ArchivedAnalysis[]): string {
  return sortedTable(['Digest', 'Tags', 'Analyzed At', 'Archived At', 'Status', 'Archive Size Bytes'],
    items.map((a) => [a.imageDigest, tagsOf(a), a.analyzed_at, a.created_at, a.status, a.archive_size_bytes]), 'Archived At', true);
}

function imageCommands(images: Command): void {
  addConnectionOptions(images.command('add').argument('<digests...>', 'digests of analyzed catalog images'))
    .description('archive the analyses of catalog images (they leave the working set)')
    .action(async (digests: string[], _o: unknown, cmd: Command) => {
      for (const d of digests) digestArg(d);
      await withService(cmd, async (svc) => {
        const r = await svc.client.post<{ digest: string; status: string; detail?: string }[]>('/archives/images', digests);
        svc.print(r, () => sortedTable(['Image Digest', 'Archive Status', 'Details'], r.map((x) => [x.digest, x.status, x.detail ?? '']), 'Image Digest'));
      });
    });

  addConnectionOptions(images.command('list'))
    .description('list archived analyses')
    .action(async (_o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const items = await svc.client.get<ArchivedAnalysis[]>('/archives/images');
        svc.print(items, () => archivedText(items));
      });
    });

  addConnectionOptions(images.command('get').argument('<digest>', 'image digest', digestArg))
    .description('show one archived analysis')
    .action(async (digest: string, _o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const a = await svc.client.get<ArchivedAnalysis>(`/archives/images/${seg(digest)}`);
        svc.print(a, () => block([['Digest', a.imageDigest], ['Tags', tagsOf(a)], ['Analyzed At', a.analyzed_at], ['Archived At', a.created_at],
          ['Status', a.status], ['Archive Size Bytes', a.archive_size_bytes]]));
      });
    });

  addConnectionOptions(images.command('del').argument('<digest>', 'image digest', digestArg))
    .description('delete an archived analysis')
    .option('--force', 'delete it even when it is being restored')
    .action(async (digest: string, o: { force?: boolean }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const r = await svc.client.delete(`/archives/images/${seg(digest)}`, o.force ? { force: true } : undefined);
        svc.print(r, () => success());
      });
    });

  addConnectionOptions(images.command('export').argument('<digest>', 'image digest of an archived analysis', digestArg))
    .description('download an archived analysis as an analysis archive file (tar.gz, Anchore\'s archive format)')
    .requiredOption('--file <path>', 'write it to this file')
    .action(async (digest: string, o: { file: string }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const bytes = await svc.client.downloadBytes(`/archives/images/${seg(digest)}/export`);
        await writeFile(o.file, bytes);
        svc.print({ imageDigest: digest, file: o.file, bytes: bytes.length }, () => success(`${digest} written to ${o.file} (${bytes.length} bytes)`));
      });
    });

  addConnectionOptions(images.command('import').argument('<file>', 'an analysis archive file (tar.gz) from lading or Anchore Engine'))
    .description('restore an image, analyzed, with its evaluation history, from an analysis archive file')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const info = await stat(file).catch(unreadable(`the archive ${file}`));
      if (!info.isFile()) throw new LadingError('BAD_INPUT', `${file} is not a file`);
      await withService(cmd, async (svc) => {
        const records = await svc.client.upload<AnchoreImage[]>('/import/images', createReadStream(file), 'application/gzip');
        svc.print(records, () => imageText(records));
      });
    });
}

export function analysisArchiveCommand(): Command {
  const group = new Command('analysis-archive').description('the analysis archive of a Lading service: archived analyses, export and import as files');
  imageCommands(group.command('images').description('archived image analyses'));
  return group;
}
