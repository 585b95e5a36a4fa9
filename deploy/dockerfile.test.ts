/**
 * deploy/Dockerfile's rules, read from the file itself: two stages, the final one on the slim Node.js
 * image with no build tools, a non-root numeric USER, a HEALTHCHECK, the built CLI as the entry
 * point, the API port exposed; deploy/build-image.sh builds stand-ins for exactly the Dockerfile's
 * bases; .dockerignore keeps out what must not be sent but nothing the build copies. And the
 * HEALTHCHECK script against a real service: healthy, unhealthy, and the probe port of a worker.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { freePort } from '../src/testkit/registry.js';
import { startTestService } from '../src/testkit/service.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

interface Instruction { op: string; args: string; line: number }

/** Instructions with continuation lines joined and comments dropped, grouped by stage (FROM starts one). */
function parseDockerfile(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let l = lines[i]!.trim();
    if (l === '' || l.startsWith('#')) continue;
    while (l.endsWith('\\') && i + 1 < lines.length) {
      i++;
      const next = lines[i]!.trim();
      l = l.slice(0, -1) + (next.startsWith('#') ? '' : ` ${next}`);
    }
    const m = /^(\S+)\s*(.*)$/.exec(l)!;
    const ins = { op: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ').trim(), line: start + 1 };
    if (ins.op === 'FROM') stages.push([]);
    assert.ok(stages.length > 0, `line ${ins.line}: ${ins.op} before the first FROM`);
    stages[stages.length - 1]!.push(ins);
  }
  return stages;
}

const stages = parseDockerfile(read('deploy/Dockerfile'));
const final = stages[stages.length - 1]!;
const of = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op);
const jsonArgs = (i: Instruction | undefined) => {
  assert.ok(i, 'instruction missing');
  assert.match(i.args, /^\[/, `line ${i.line}: ${i.op} should use the JSON (exec) form`);
  return JSON.parse(i.args) as string[];
};
/** FROM image [AS name] → the image and the stage name. */
const fromOf = (stage: Instruction[]) => {
  const [image, as, name] = stage[0]!.args.split(' ');
  return { image: image!, name: as?.toUpperCase() === 'AS' ? name : undefined };
};
const stageNames = new Set(stages.map(fromOf).map((f) => f.name).filter(Boolean));
/** Base images (FROM of another stage excluded). */
const bases = stages.map(fromOf).map((f) => f.image).filter((img) => !stageNames.has(img));

describe('deploy/Dockerfile', () => {
  test('is multi-stage: a Node.js build stage, then the slim Node.js image', () => {
    assert.ok(stages.length >= 2, `expected at least two stages, found ${stages.length}`);
    assert.equal(fromOf(stages[0]!).image, 'docker.io/library/node:20-bookworm');
    assert.equal(fromOf(final).image, 'docker.io/library/node:20-bookworm-slim');
    const fromStages = of(final, 'COPY').filter((c) => /--from=/.test(c.args));
    assert.ok(fromStages.length > 0, 'the final stage copies nothing from the build stage');
    for (const c of fromStages) assert.ok(stageNames.has(/--from=(\S+)/.exec(c.args)![1]), `line ${c.line}: COPY --from names no stage`);
  });

  test('the build stage compiles and prunes development dependencies before the final stage copies node_modules', () => {
    const runs = of(stages[0]!, 'RUN').map((r) => r.args).join(' && ');
    assert.match(runs, /\bnpm ci\b/);
    assert.match(runs, /\bnpm run build\b/);
    assert.match(runs, /\bnpm prune --omit=dev\b/);
    assert.ok(of(final, 'COPY').some((c) => /--from=\S+ \S*node_modules /.test(c.args)));
  });

  test('the final stage installs and runs no build tools', () => {
    const buildTools = /\b(apt-get|apt|apk|yum|dnf|microdnf)\b[^&;|]*\binstall\b|\b(gcc|g\+\+|cc|c\+\+|make|python3?|build-essential|node-gyp)\b|\bnpm (ci|install|i|rebuild)\b/;
    const runs = of(final, 'RUN');
    for (const r of runs) assert.doesNotMatch(r.args, buildTools, `line ${r.line}: the final stage must not install or use build tools`);
    // Everything it copies from the build stage is a build output, not the toolchain.
    for (const c of of(final, 'COPY')) assert.doesNotMatch(c.args, /\/usr\/(bin|lib\/gcc|local\/lib\/node_modules\/npm)/, `line ${c.line}`);
  });

  test('runs as a non-root, numeric user', () => {
    const users = of(final, 'USER');
    assert.ok(users.length > 0, 'the final stage has no USER');
    const user = users[users.length - 1]!.args;
    assert.match(user, /^\d+(:\d+)?$/, 'USER should be numeric (uid[:gid]) so Kubernetes runAsNonRoot can verify it');
    assert.notEqual(Number(user.split(':')[0]), 0, 'USER must not be root');
    // The data directory is made writable for that user.
    assert.ok(of(final, 'RUN').some((r) => r.args.includes(`chown ${user} /var/lib/lading`)));
    assert.ok(of(final, 'ENV').some((e) => /\bLADING_DATA_DIR=\/var\/lib\/lading\b/.test(e.args)));
  });

  test('has a HEALTHCHECK running the script it copies in', () => {
    const hc = of(final, 'HEALTHCHECK');
    assert.equal(hc.length, 1);
    const m = /^(.*?)\s*CMD (\[.*\])$/.exec(hc[0]!.args);
    assert.ok(m, 'HEALTHCHECK should be [options] CMD [exec form]');
    assert.match(m[1]!, /--interval=\d+s/);
    assert.match(m[1]!, /--timeout=\d+s/);
    const cmd = JSON.parse(m[2]!) as string[];
    assert.deepEqual(cmd, ['node', '/app/deploy/healthcheck.mjs']);
    assert.ok(of(final, 'COPY').some((c) => c.args === 'deploy/healthcheck.mjs ./deploy/healthcheck.mjs'));
    assert.ok(of(final, 'WORKDIR').some((w) => w.args === '/app'));
    assert.ok(existsSync(join(ROOT, 'deploy/healthcheck.mjs')));
  });

  test('the entry point is the built CLI (package.json bin), serving by default', () => {
    const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> };
    const entry = jsonArgs(of(final, 'ENTRYPOINT')[0]);
    assert.deepEqual(entry, ['node', `/app/${pkg.bin.lading}`]);
    assert.ok(of(final, 'COPY').some((c) => /--from=\S+ \/src\/dist \.\/dist$/.test(c.args)), 'the final stage copies dist/ into /app/dist');
    assert.deepEqual(jsonArgs(of(final, 'CMD')[0]), ['serve']);
  });

  test('exposes the API port, and the API listens on every interface', () => {
    const port = loadConfig({ yaml: '', env: {} }).listen.port;
    assert.equal(port, 8228);
    const exposed = of(final, 'EXPOSE').flatMap((e) => e.args.split(' ')).map((p) => p.replace(/\/tcp$/, ''));
    assert.ok(exposed.includes(String(port)), `EXPOSE ${port} missing (found ${exposed.join(', ')})`);
    assert.ok(of(final, 'ENV').some((e) => /\bLADING_HOST=0\.0\.0\.0\b/.test(e.args)));
  });

  test('deploy/build-image.sh builds stand-ins for exactly the Dockerfile\'s base images', () => {
    const script = read('deploy/build-image.sh');
    const assigned = (name: string) => {
      const m = new RegExp(`^${name}=(\\S+)$`, 'm').exec(script);
      assert.ok(m, `build-image.sh sets no ${name}`);
      return m[1]!;
    };
    assert.deepEqual(new Set([assigned('BUILDER_BASE'), assigned('RUNTIME_BASE')]), new Set(bases));
    assert.match(script, /build_base "\$BUILDER_BASE" [^\n]*python3[^\n]*make[^\n]*g\+\+/);
    assert.match(script, /build_base "\$RUNTIME_BASE" ""/);
    assert.match(script, /bud --isolation chroot --format docker [^\n]*-f deploy\/Dockerfile/);
  });

  test('.dockerignore keeps out the repository, dependencies, outputs and tests, but nothing the build copies', () => {
    const patterns = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const glob = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').split('**/').map((part) => part.replace(/\*/g, '[^/]*')).join('(.*/)?')}(/.*)?$`);
    /** Docker's rule: the last pattern that matches decides; `!` re-includes. */
    const excluded = (path: string) => patterns.reduce((ex, p) => (glob(p.replace(/^!/, '')).test(path) ? !p.startsWith('!') : ex), false);
    for (const p of ['.git', 'node_modules', 'ui/node_modules', 'dist/cli/main.js', 'build/cli/main.js', 'src/config/load.test.ts', 'docs/deploy.md', 'deploy/compose.yaml']) assert.ok(excluded(p), `.dockerignore lets ${p} in`);
    const copied = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/config/load.ts', 'ui/vite.config.ts', 'deploy/healthcheck.mjs'];
    for (const c of copied) assert.ok(!excluded(c), `.dockerignore excludes ${c}, which the build needs`);
  });
});

describe('deploy/healthcheck.mjs (the HEALTHCHECK) against a real service', () => {
  const run = promisify(execFile);
  const dirs: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  after(async () => {
    for (const s of stops) await s();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const script = join(ROOT, 'deploy/healthcheck.mjs');
  const check = async (env: Record<string, string>) => {
    try {
      const r = await run(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env }, timeout: 20_000 });
      return { code: 0, out: r.stdout + r.stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: err.code ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
    }
  };
  const start = async (config: Record<string, unknown>) => {
    const dir = await mkdtemp(join(tmpdir(), 'lading-healthcheck-'));
    dirs.push(dir);
    const { svc } = await startTestService(join(dir, 'lading.db'), dir, { config, workers: 1 });
    stops.push(() => svc.close());
    return svc;
  };

  test('api role: healthy while the API answers /health, unhealthy once it stops', async () => {
    const svc = await start({ roles: ['api'] });
    const port = new URL(svc.url!).port;
    const ok = await check({ LADING_ROLES: 'api', LADING_PORT: port, LADING_HOST: '0.0.0.0' });
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, new RegExp(`healthy: http://127\\.0\\.0\\.1:${port}/health answered 200`));
    await svc.close();
    const down = await check({ LADING_ROLES: 'api', LADING_PORT: port });
    assert.equal(down.code, 1, down.out);
    assert.match(down.out, /unhealthy: .*ECONNREFUSED/);
  });

  test('worker role: probes metrics.port, and has nothing to probe without one', async () => {
    const port = await freePort();
    const svc = await start({ roles: ['worker'], metrics: { port } });
    assert.ok(svc.probeUrl);
    const ok = await check({ LADING_ROLES: 'worker', LADING_METRICS_PORT: String(port) });
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, new RegExp(`healthy: http://127\\.0\\.0\\.1:${port}/health answered 200`));
    const none = await check({ LADING_ROLES: 'worker,watcher' });
    assert.equal(none.code, 0, none.out);
    assert.match(none.out, /no HTTP endpoint to probe/);
  });

  test('a configuration error is unhealthy, naming the problem', async () => {
    const r = await check({ LADING_PORT: 'eighty' });
    assert.equal(r.code, 1);
    assert.match(r.out, /unhealthy: configuration: listen\.port: .*LADING_PORT/);
  });
});
