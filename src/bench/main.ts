/**
 * `npm run bench`: figures, not pass/fail. First start-up (startup.ts). Builds a multi-layer image of about 150 MB uncompressed,
 * pushes it to a loopback registry (Debian's docker-registry), then times, each in its own process
 * and best of three: fetch + gunzip only (the floor), fetch + squash, and fetch + full SBOM.
 * When the shared test bed's registry runs on 127.0.0.1:5000, its real Debian image is measured too.
 * Then the vulnerability-data figures, and the service's (service.ts, in its own process): images
 * analysed per minute by 1 and 2 worker processes, and API latency at a fixed request rate; and
 * the web UI's image list over 10,000 stored images (summaries.ts); the set-based re-match and the
 * image list at 10,000 and 100,000 images on PostgreSQL (findings.ts); SBOM imports per second
 * through the API with concurrent clients, and the database growth per image (imports.ts).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { registryAvailable, registrySkipReason, startRegistry } from '../testkit/registry.js';
import { vulnFigures } from './vulns.js';
import { startupFigures } from './startup.js';

const phaseScript = join(dirname(fileURLToPath(import.meta.url)), 'phase.js');

interface Figure { phase: string; ms: number; maxRssMB: number; [k: string]: number | string }

function measure(phase: string, ref: string, runs = 3): Figure {
  let best: Figure | undefined;
  for (let i = 0; i < runs; i++) {
    const r = spawnSync(process.execPath, [phaseScript, phase, ref], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${phase} ${ref} failed:\n${r.stderr}`);
    const f = JSON.parse(r.stdout.trim().split('\n').pop()!) as Figure;
    if (!best || f.ms < best.ms) best = f;
  }
  return best!;
}

function row(label: string, f: Figure, floor?: Figure): string {
  const ratio = floor ? `  ${(f.ms / floor.ms).toFixed(2)}x floor` : '';
  return `${label.padEnd(34)}${String(f.ms).padStart(7)} ms  peak RSS ${String(f.maxRssMB).padStart(4)} MB${ratio}`;
}

async function main(): Promise<void> {
  if (!registryAvailable()) {
    console.error(`bench: ${registrySkipReason}`);
    process.exit(1);
  }
  console.log(startupFigures().join('\n') + '\n');
  const reg = await startRegistry();
  try {
    const ref = `${reg.host}/bench/app:v1`;
    // Built and pushed by a child, so this process stays small: Linux keeps a parent's peak RSS in
    // a child's getrusage() across fork+exec, which would hide the figures we want.
    const prep = spawnSync(process.execPath, [join(dirname(phaseScript), 'synthetic.js'), ref], { encoding: 'utf8' });
    if (prep.status !== 0) throw new Error(`building the synthetic image failed:\n${prep.stderr}`);
    const info = JSON.parse(prep.stdout) as { layers: number; uncompressed: number; compressed: number };
    console.log(`Synthetic image ${ref}: ${info.layers} layers, ${(info.uncompressed / 1e6).toFixed(1)} MB uncompressed, ${(info.compressed / 1e6).toFixed(1)} MB gzip, best of 3 runs each`);
    const floor = measure('gunzip', ref);
    console.log(row('fetch + gunzip (floor)', floor));
    console.log(row('fetch + verify + squash', measure('squash', ref), floor));
    console.log(row('fetch + squash + SBOM', measure('sbom', ref), floor));
  } finally {
    await reg.stop();
  }
  const real = '127.0.0.1:5000/debian-app:latest';
  const probe = spawnSync(process.execPath, [phaseScript, 'gunzip', real], { encoding: 'utf8' });
  if (probe.status === 0) {
    console.log(`\nTest-bed image ${real} (real Debian 12 with curl, 2 layers)`);
    const f = measure('gunzip', real);
    console.log(row('fetch + gunzip (floor)', f));
    console.log(row('fetch + verify + squash', measure('squash', real), f));
    console.log(row('fetch + squash + SBOM', measure('sbom', real), f));
  } else {
    console.log(`\n(test-bed registry on 127.0.0.1:5000 not running: real-image figures skipped)`);
  }
  console.log('');
  const cache = spawnSync(process.execPath, [join(dirname(phaseScript), 'cache.js')], { stdio: 'inherit' });
  if (cache.status !== 0) throw new Error(`the layer cache figures failed (exit ${cache.status ?? cache.signal})`);
  console.log('');
  console.log((await vulnFigures()).join('\n'));
  console.log('');
  const service = spawnSync(process.execPath, [join(dirname(phaseScript), 'service.js')], { stdio: 'inherit' });
  if (service.status !== 0) throw new Error(`the service figures failed (exit ${service.status ?? service.signal})`);
  console.log('');
  const summaries = spawnSync(process.execPath, [join(dirname(phaseScript), 'summaries.js')], { stdio: 'inherit' });
  if (summaries.status !== 0) throw new Error(`the web UI list figures failed (exit ${summaries.status ?? summaries.signal})`);
  console.log('');
  const findings = spawnSync(process.execPath, [join(dirname(phaseScript), 'findings.js')], { stdio: 'inherit' });
  if (findings.status !== 0) throw new Error(`the set-based re-match figures failed (exit ${findings.status ?? findings.signal})`);
  console.log('');
  const imports = spawnSync(process.execPath, [join(dirname(phaseScript), 'imports.js')], { stdio: 'inherit' });
  if (imports.status !== 0) throw new Error(`the SBOM import figures failed (exit ${imports.status ?? imports.signal})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
