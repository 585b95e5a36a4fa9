/**
 * Image arguments as anchore-cli read them: `…@sha256:…` or `sha256:…` is a digest, 64 hex
 * digits an image id (looked up at /images/by_id/{id}), anything else a tag, looked up with
 * `GET /images?fulltag=` (the newest record wins).
 */
import { LadingError } from '../../errors.js';
import { parseReference } from '../../image/reference.js';
import { anchoreTag } from '../../policy/tag.js';
import { ServiceError, seg, type ServiceClient } from './http.js';
import type { AnchoreImage } from './shapes.js';

export type ImageInput =
  | { kind: 'digest'; digest: string }
  | { kind: 'id'; id: string }
  | { kind: 'tag'; tag: string };

/** `nginx` → `docker.io/nginx:latest`: the form the service stores tags in. */
export function normalTag(input: string): string {
  try {
    const r = parseReference(input);
    return anchoreTag(`${r.registry}/${r.repository}:${r.tag ?? 'latest'}`);
  } catch (e) {
    if (e instanceof LadingError) throw new ServiceError(1, 'BAD_REFERENCE', e.message);
    throw e;
  }
}

export function classifyImage(input: string): ImageInput {
  const s = input.trim();
  const digest = /(?:^|@)(sha256:[0-9a-f]{64})$/.exec(s);
  if (digest) return { kind: 'digest', digest: digest[1]! };
  if (/^[0-9a-f]{64}$/.test(s)) return { kind: 'id', id: s };
  return { kind: 'tag', tag: normalTag(s) };
}

/** When the tag was seen for this record (its image_detail entry), else when the record was made. */
function tagTime(img: AnchoreImage, tag: string): string {
  const d = img.image_detail.find((x) => x.fulltag === tag);
  return d?.tag_detected_at ?? d?.created_at ?? img.created_at ?? '';
}

/** The records for a tag, newest first. */
export async function imagesByTag(client: ServiceClient, tag: string, history = false): Promise<AnchoreImage[]> {
  const records = await client.get<AnchoreImage[]>('/images', { fulltag: tag, history });
  return [...records].sort((a, b) => tagTime(b, tag).localeCompare(tagTime(a, tag)));
}

function notFound(input: string): ServiceError {
  return new ServiceError(1, 'NOT_FOUND', `image ${input} is not in the catalog (add it with: lading image add ${input})`);
}

/** The image record an argument names. */
export async function getImage(client: ServiceClient, input: string): Promise<AnchoreImage> {
  const i = classifyImage(input);
  let records: AnchoreImage[];
  if (i.kind === 'digest') records = await client.get<AnchoreImage[]>(`/images/${seg(i.digest)}`);
  else if (i.kind === 'id') records = await client.get<AnchoreImage[]>(`/images/by_id/${seg(i.id)}`);
  else records = await imagesByTag(client, i.tag);
  const img = records[0];
  if (!img) throw notFound(input);
  return img;
}

export interface ResolvedImage {
  digest: string;
  /** The tag the argument named (normalised), when it was a tag. */
  tag?: string;
}

/** The digest an argument names; a digest argument is used as is, without a lookup. */
export async function resolveImage(client: ServiceClient, input: string): Promise<ResolvedImage> {
  const i = classifyImage(input);
  if (i.kind === 'digest') return { digest: i.digest };
  const img = await getImage(client, input);
  return { digest: img.imageDigest, ...(i.kind === 'tag' ? { tag: i.tag } : {}) };
}
