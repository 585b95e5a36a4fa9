/**
 * A dependency loaded on first use instead of at start-up: commands that never need it (a warm
 * `lading sbom`, `lading --version`) do not pay for loading it.
 */
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireHere(id) as T);
}
