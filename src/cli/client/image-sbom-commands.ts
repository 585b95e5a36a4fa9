/**
 * `lading image sbom|import`: SBOMs between a file and the service. `sbom` downloads the stored
 * SBOM of a catalog image (`GET /images/{digest}/sboms/{format}`); `import` uploads an SBOM made
 * elsewhere through the import routes (`POST /imports/images`, `.../packages`, then `POST /images`
 * with `source.import`), which records it as an analyzed image without a pull.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { LadingError, unreadable } from '../../errors.js';
import { addConnectionOptions } from './connection.js';
import { seg } from './http.js';
import { resolveImage } from './images.js';
import { withService } from './output.js';
import type { AnchoreImage } from './shapes.js';
import { imageText } from './image-commands.js';

/** `-o` names and their API paths. */
const SBOM_PATHS: Record<string, string> = { 'cyclonedx-json': 'cyclonedx-json', 'spdx-json': 'spdx-json', json: 'native' };
const CONTENT_TYPES: Record<string, string> = { cyclonedx: 'application/vnd.cyclonedx+json', spdx: 'application/spdx+json' };

interface ImportOptions { tag: string[]; digest?: string; force?: boolean }

/** The SBOM's kind and the image digest it names (the manifest digest), checked before anything is sent. */
async function readImportable(file: string): Promise<{ bytes: Buffer; contentType: string; digest?: string }> {
  const bytes = await readFile(file).catch(unreadable(`the SBOM ${file}`));
  const { detectSbom, readSbom } = await import('../../sbom/formats/index.js');
  const text = bytes.toString('utf8');
  let digest: string | undefined;
  try {
    digest = readSbom(text).source.manifestDigest;
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${file}: ${(e as Error).message}`);
  }
  return { bytes, contentType: CONTENT_TYPES[detectSbom(text) ?? ''] ?? 'application/json', ...(digest ? { digest } : {}) };
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

function digestArg(v: string): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(v)) throw new InvalidArgumentError('expected sha256:<64 hex digits>');
  return v;
}

export function addSbomCommands(image: Command): void {
  addConnectionOptions(image.command('sbom').argument('<image>', 'tag, digest or image id of a catalog image'))
    .description('download the SBOM of an analyzed catalog image (service)')
    .addOption(new Option('-o, --output <format>', 'SBOM format').choices(Object.keys(SBOM_PATHS)).default('cyclonedx-json'))
    .option('--file <path>', 'write it to this file instead of stdout')
    .action(async (input: string, o: { output: string; file?: string }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const { digest } = await resolveImage(svc.client, input);
        const text = await svc.client.download(`/images/${seg(digest)}/sboms/${SBOM_PATHS[o.output]!}`);
        if (o.file) await writeFile(o.file, text);
        else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      });
    });

  addConnectionOptions(image.command('import').argument('<sbom>', 'an SBOM file: CycloneDX, SPDX or syft JSON (or Lading\'s)'))
    .description('upload an SBOM made elsewhere as an analyzed catalog image, without a pull (service)')
    .requiredOption('--tag <registry/repo:tag>', 'the tag to record it under (repeatable)', collect)
    .option('--digest <sha256:...>', 'the image (manifest) digest; default: the one the SBOM names, else the SBOM\'s own sha256', digestArg)
    .option('--force', 'import again over an image with this digest')
    .action(async (file: string, o: ImportOptions, cmd: Command) => {
      const sbom = await readImportable(file);
      let digest = o.digest ?? sbom.digest;
      if (!digest) {
        digest = `sha256:${createHash('sha256').update(sbom.bytes).digest('hex')}`;
        process.stderr.write(`note: ${file} names no image digest; using the SBOM's own sha256 (${digest}); give --digest for the image's\n`);
      }
      await withService(cmd, async (svc) => {
        const op = await svc.client.post<{ uuid: string }>('/imports/images');
        const packages = await svc.client.upload<{ digest: string }>(`/imports/images/${seg(op.uuid)}/packages`, sbom.bytes, sbom.contentType);
        const body = { source: { import: { digest, tags: o.tag, operation_uuid: op.uuid, contents: { packages: packages.digest } } } };
        const added = await svc.client.post<AnchoreImage[]>('/images', body, o.force ? { force: true } : undefined);
        svc.print(added, () => imageText(added));
      });
    });
}
