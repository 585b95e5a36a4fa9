/**
 * The layer cache figures (issue 14), in its own process: `node dist/bench/cache.js [ROUNDS]`.
 * On the test bed's 127.0.0.1:5000/debian-app:latest, alternating round by round (medians):
 * the gunzip floor (`cat` both layer blobs | gzip -dc), `lading sbom` cold (empty cache) and warm
 * (wall, start-up included, with peak RSS), and trivy cold/warm net of its start-up when it can be
 * had (shared/peers/get-trivy.sh). Then the 2 GiB gzip bomb's peak RSS with the ratio limit off,
 * and analyses per minute of images sharing one base layer, with and without the cache, in 1 and
 * 2 processes. Skipped with a message when the test bed is absent.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TESTBED = process.env.TESTBED ?? '/var/tmp/testbed';
const REF = '127.0.0.1:5000/debian-app:latest';
const here = dirname(fileURLToPath(import.meta.url));
// The command users run: the package's bundled bin (npm run bench builds dist/ first).
const cli = join(here, '..', '..', 'dist', 'bin', 'lading.js');
// ../shared beside the checkout, as in CI.
const GET_TRIVY = join(here, '..', '..', '..', 'shared', 'peers', 'get-trivy.sh');

interface Run { s: number; rssMB: number }

/** Wall seconds and peak RSS of a command, by /usr/bin/time. */
function timed(cmd: string[], env: NodeJS.ProcessEnv = process.env): Run & { stderr: string } {
  const r = spawnSync('/usr/bin/time', ['-f', '@@%e %M', ...cmd], { encoding: 'utf8', env, maxBuffer: 1 << 28 });
  const m = /@@([\d.]+) (\d+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd.join(' ')} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  return { s: Number(m[1]), rssMB: Math.round(Number(m[2]) / 1024), stderr: r.stderr };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (s: number) => `${s.toFixed(2)} s`;

function layerBlobs(): string[] {
  const manifest = spawnSync('curl', ['-sf', '-H', 'Accept: application/vnd.oci.image.manifest.v1+json', `http://${REF.replace('/debian-app:latest', '/v2/debian-app/manifests/latest')}`], { encoding: 'utf8' });
  const layers = (JSON.parse(manifest.stdout) as { layers: { digest: string }[] }).layers;
  return layers.map((l) => {
    const hex = l.digest.slice('sha256:'.length);
    return join(TESTBED, 'registry/docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  });
}

function trivyPath(): string | null {
  const path = join(tmpdir(), 'trivy-bin', 'trivy');
  if (existsSync(path)) return path;
  if (!existsSync(GET_TRIVY)) return null;
  const r = spawnSync('bash', [GET_TRIVY, path], { encoding: 'utf8' });
  return r.status === 0 && existsSync(path) ? path : null;
}

/** trivy's own time: from its first --debug log line to its exit. */
function trivyNet(trivy: string, cacheDir: string): number {
  const r = spawnSync(trivy, ['--debug', 'image', '--image-src', 'remote', '--insecure', '-f', 'cyclonedx', '--skip-files', '/opt/app/app.jar',
    '--cache-dir', cacheDir, REF], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const end = Date.now();
  const first = /^(20\d\d-[\d-]+T[\d:.]+Z)/m.exec(r.stderr);
  if (r.status !== 0 || !first) throw new Error(`trivy failed:\n${r.stderr.slice(-1000)}`);
  return (end - Date.parse(first[1]!)) / 1000;
}

function sbomRun(cacheDir: string, extra: string[] = []): Run {
  return timed([process.execPath, cli, 'sbom', '--insecure-registry', '127.0.0.1:5000', ...extra, REF, '-o', 'json', '--file', '/dev/null'], { ...process.env, LADING_CACHE_DIR: cacheDir });
}

function debianApp(rounds: number): string[] {
  const blobs = layerBlobs();
  const trivy = trivyPath();
  const f: Record<string, number[]> = {};
  const add = (k: string, v: number) => (f[k] ??= []).push(v);
  for (let i = 0; i < rounds; i++) {
    add('floor', timed(['bash', '-c', `cat ${blobs.join(' ')} | gzip -dc > /dev/null`]).s);
    const dir = mkdtempSync(join(tmpdir(), 'lading-bench-cache-'));
    try {
      const cold = sbomRun(dir);
      add('cold', cold.s);
      add('coldRss', cold.rssMB);
      const warm = sbomRun(dir);
      add('warm', warm.s);
      add('warmRss', warm.rssMB);
      // Without the image's entry: assembled from the cached layer parts (a new image on cached layers).
      rmSync(join(dir, 'layers', 'images'), { recursive: true, force: true });
      const parts = sbomRun(dir);
      add('parts', parts.s);
      add('partsRss', parts.rssMB);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const none = sbomRun(join(tmpdir(), 'unused'), ['--no-cache']);
    add('nocache', none.s);
    add('nocacheRss', none.rssMB);
    add('node', timed([process.execPath, '-e', '0']).s);
    if (trivy) {
      const tdir = mkdtempSync(join(tmpdir(), 'trivy-bench-cache-'));
      try {
        add('trivyCold', trivyNet(trivy, tdir));
        add('trivyWarm', trivyNet(trivy, tdir));
      } finally {
        rmSync(tdir, { recursive: true, force: true });
      }
    }
  }
  const floor = median(f.floor!);
  const x = (k: string) => `${(median(f[k]!) / floor).toFixed(2)}x floor`;
  return [
    `Layer cache on ${REF}, medians of ${rounds} alternating rounds (wall, start-up included; trivy net of its start-up)`,
    `  gunzip floor (cat blobs | gzip -dc)  ${fmt(floor)}`,
    `  lading sbom cold (empty cache)       ${fmt(median(f.cold!))}  ${x('cold')}  peak RSS ${median(f.coldRss!)} MiB`,
    `  lading sbom warm                     ${fmt(median(f.warm!))}  peak RSS ${median(f.warmRss!)} MiB`,
    `  lading sbom warm from layer parts    ${fmt(median(f.parts!))}  peak RSS ${median(f.partsRss!)} MiB`,
    `  lading sbom --no-cache               ${fmt(median(f.nocache!))}  ${x('nocache')}  peak RSS ${median(f.nocacheRss!)} MiB`,
    `  bare node -e 0                       ${fmt(median(f.node!))}`,
    ...(f.trivyCold ? [
      `  trivy cold (net)                     ${fmt(median(f.trivyCold))}  ${x('trivyCold')}`,
      `  trivy warm (net)                     ${fmt(median(f.trivyWarm!))}`,
    ] : ['  trivy: not available (shared/peers/get-trivy.sh)']),
  ];
}

function bomb(): string {
  const dir = join(TESTBED, 'evil/oci/gzip-bomb');
  if (!existsSync(dir)) return '  2 GiB gzip bomb: not in the test bed';
  const script = `const { openSource } = await import(${JSON.stringify(join(here, '..', 'image/sources/index.js'))});
    const { analyzeImage } = await import(${JSON.stringify(join(here, '..', 'analyze/analyze.js'))});
    const s = await openSource('oci-dir:${dir}'); const img = await s.resolve({});
    const sbom = await analyzeImage(img, { limits: { maxCompressionRatio: 1e6 } });
    console.log(sbom.files.length); await s.close();`;
  const r = timed([process.execPath, '--input-type=module', '-e', script]);
  return `  2 GiB gzip bomb (ratio limit off, all 2 GiB read): ${fmt(r.s)}, peak RSS ${r.rssMB} MiB`;
}

/** N images sharing the test bed's debian-base layer, each with its own small top layer, analyzed as a worker does. */
async function shared(n: number): Promise<string[]> {
  const out: string[] = [];
  const child = join(here, 'cache-worker.js');
  for (const cache of [false, true]) {
    for (const procs of [1, 2]) {
      const dir = mkdtempSync(join(tmpdir(), 'lading-bench-shared-'));
      try {
        // Each process builds its images first; the figure is the longest analysis loop.
        const times = await Promise.all(Array.from({ length: procs }, (_, p) => new Promise<number>((resolve, reject) => {
          const c = spawn(process.execPath, [child, String(n), String(p), String(procs), cache ? dir : ''], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          c.stdout.on('data', (d: Buffer) => (out += d));
          c.on('close', (code) => {
            if (code === 0) resolve(Number(out.trim()));
            else reject(new Error(`cache-worker exited ${code}`));
          });
        })));
        const s = Math.max(...times);
        out.push(`  ${n} images sharing one base layer, ${cache ? 'with' : 'without'} the cache, ${procs} process${procs > 1 ? 'es' : ''}: ${fmt(s)}, ${(n / s * 60).toFixed(0)} images/minute`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return out;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 5);
  const n = Number(process.argv[3] ?? 20);
  if (!existsSync(TESTBED) || spawnSync('curl', ['-sf', `http://127.0.0.1:5000/v2/`]).status !== 0) {
    console.log('Layer cache figures: skipped (no test bed at /var/tmp/testbed or its registry on 127.0.0.1:5000 is not running)');
    return;
  }
  console.log(debianApp(rounds).join('\n'));
  console.log(bomb());
  console.log((await shared(n)).join('\n'));
}

await main();
