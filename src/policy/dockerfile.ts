/**
 * The Dockerfile the dockerfile gate reads: the one the user supplied ("actual"), or one
 * reconstructed from the image history ("guessed") exactly as Anchore reconstructed it, so
 * messages (and the trigger ids hashed from them) come out the same. Parsed into lines by
 * directive, the way Anchore's gate prepared them.
 */
import type { ImageMetadata } from '../sbom/model.js';

export const DIRECTIVES = ['ADD', 'ARG', 'COPY', 'CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'USER', 'RUN', 'SHELL', 'STOPSIGNAL', 'VOLUME', 'WORKDIR'] as const;

const BUILDKIT = new RegExp(`^(?:${DIRECTIVES.join('|')}) `);

/**
 * One history entry as a Dockerfile line. Classic builder entries follow Anchore: `#(nop)` lines
 * give their instruction, anything else becomes `RUN <created_by>`. BuildKit writes the instruction
 * itself (`EXPOSE map[22/tcp:{}]`, `RUN /bin/sh -c ... # buildkit`), which Anchore turned into
 * `RUN EXPOSE ...`; Lading keeps the instruction and writes EXPOSE's port map as a port list.
 */
export function historyLine(createdBy: string): string | undefined {
  const nop = /^\/bin\/sh -c #\(nop\) +(.*)/.exec(createdBy);
  if (nop) return nop[1]!;
  if (BUILDKIT.test(createdBy)) {
    const line = createdBy.replace(/\s*# buildkit$/, '');
    const ports = /^EXPOSE map\[(.*)\]$/.exec(line);
    return ports ? `EXPOSE ${ports[1]!.split(/\s+/).map((p) => p.replace(/:\{\}$/, '')).filter(Boolean).join(' ')}` : line;
  }
  return createdBy ? `RUN ${createdBy}` : undefined;
}

export function guessedDockerfile(history: ImageMetadata['history']): string {
  let out = 'FROM scratch\n';
  for (const h of history) {
    const line = historyLine(h.createdBy);
    if (line) out += `${line}\n`;
  }
  return out;
}

/** Lines by upper-cased directive, continuation lines joined, comments and blanks dropped. */
export function parseDockerfile(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let buf = '';
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (/\\$/.test(line)) {
      buf += line.replace(/\\$/, '');
      continue;
    }
    buf += line;
    const directive = buf.split(' ', 1)[0]!.toUpperCase();
    const list = out.get(directive) ?? [];
    list.push(buf);
    out.set(directive, list);
    buf = '';
  }
  return out;
}

export interface PreparedDockerfile {
  mode: 'actual' | 'guessed';
  directives: Map<string, string[]>;
}

/**
 * The dockerfile of an analysed image. For a guessed Dockerfile with no EXPOSE line, the image
 * config's exposed ports are added as one (images built without history still declare them).
 */
export function prepareDockerfile(source: ImageMetadata): PreparedDockerfile {
  if (source.dockerfile.mode === 'actual') return { mode: 'actual', directives: parseDockerfile(source.dockerfile.text) };
  const directives = parseDockerfile(guessedDockerfile(source.history));
  if (!directives.has('EXPOSE') && source.config.exposedPorts.length) {
    directives.set('EXPOSE', [`EXPOSE ${source.config.exposedPorts.join(' ')}`]);
  }
  return { mode: 'guessed', directives };
}
