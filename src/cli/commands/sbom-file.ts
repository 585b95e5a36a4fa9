/** Telling an SBOM file from an image reference, for the commands that take either. */
import { open, readFile, stat } from 'node:fs/promises';
import { describeError, LadingError } from '../../errors.js';
import type { Sbom } from '../../sbom/model.js';

/**
 * The SBOM in `ref` when it names an SBOM file: an existing regular file whose first character
 * (after a byte-order mark and white space) is `{`. Image archives (tar) never start with `{`. A
 * JSON file that is no SBOM is an error naming what was expected, rather than an image attempt.
 */
export async function sbomFromFile(ref: string): Promise<Sbom | undefined> {
  let isFile: boolean;
  try {
    isFile = (await stat(ref)).isFile();
  } catch {
    // `x.json` is a file name, not an image reference: say so rather than asking a registry.
    if (/\.json$/i.test(ref)) throw new LadingError('NOT_FOUND', `no such SBOM file: ${ref}`);
    return undefined;
  }
  if (!isFile) return undefined;
  const fh = await open(ref, 'r');
  let head: string;
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
  if (!head.replace(/^\uFEFF/, '').trimStart().startsWith('{')) return undefined;
  try {
    const { readSbom } = await import('../../sbom/formats/index.js');
    return readSbom(await readFile(ref, 'utf8'));
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${ref}: ${describeError(e)}`, { cause: e });
  }
}
