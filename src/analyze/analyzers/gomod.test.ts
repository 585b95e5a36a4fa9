import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gomodAnalyzer, parseGoMod, parseGoSum } from './gomod.js';
import { runAnalyzer } from '../testing.js';

const GO_MOD = `module github.com/acme/svc // the service

go 1.21

toolchain go1.21.5

require (
	github.com/spf13/cobra v1.7.0
	golang.org/x/net v0.10.0 // indirect
	"github.com/quoted/mod" v1.0.0
	github.com/acme/lib v0.3.0
)

require github.com/gorilla/mux v1.8.0

require github.com/broken

replace golang.org/x/net v0.10.0 => golang.org/x/net v0.17.0

replace (
	github.com/acme/lib => ../lib
)

exclude github.com/gorilla/mux v1.7.0
`;

const GO_SUM = `github.com/spf13/cobra v1.7.0 h1:hyqWnYt1ZQShIddO5kBpj3vu05/++x6tJ6dg8EC572I=
github.com/spf13/cobra v1.7.0/go.mod h1:uLxZILRyS/50WlhOIKD7W6V5bgeIt+4sICxh6uRMrb0=
golang.org/x/net v0.17.0 h1:pVaXccu2ozPjCXewfr1S7xza/zcXTity9cCdXQYSjIM=
`;

test('go.mod: module, go version, requires in and out of blocks, replacements, indirect', () => {
  const m = parseGoMod(GO_MOD);
  assert.equal(m.module, 'github.com/acme/svc');
  assert.equal(m.go, '1.21');
  assert.equal(m.toolchain, 'go1.21.5');
  assert.deepEqual(m.requires.map((r) => `${r.path} ${r.version} ${r.indirect}`), [
    'github.com/spf13/cobra v1.7.0 false',
    'golang.org/x/net v0.10.0 true',
    'github.com/quoted/mod v1.0.0 false',
    'github.com/acme/lib v0.3.0 false',
    'github.com/gorilla/mux v1.8.0 false',
  ]);
  assert.deepEqual(m.requires[1]!.replace, { path: 'golang.org/x/net', version: 'v0.17.0' });
  assert.deepEqual(m.requires[3]!.replace, { path: '../lib', version: '' });
  assert.equal(m.problems.length, 1);
  assert.match(m.problems[0]!, /^line 16: require/);
});

test('go.sum: module hashes, go.mod hashes ignored', () => {
  const s = parseGoSum(GO_SUM);
  assert.equal(s.size, 2);
  assert.equal(s.get('golang.org/x/net@v0.17.0'), 'h1:pVaXccu2ozPjCXewfr1S7xza/zcXTity9cCdXQYSjIM=');
});

test('analyzer: packages from go.mod with go.sum digests; bad lines warn', async () => {
  const r = await runAnalyzer(gomodAnalyzer, { '/src/svc/go.mod': { content: GO_MOD, layer: 3 }, '/src/svc/go.sum': GO_SUM, '/src/other/go.sum': GO_SUM });
  const byName = new Map(r.packages!.map((p) => [p.name, p]));
  assert.equal(r.packages!.length, 5);
  const net = byName.get('golang.org/x/net')!;
  assert.equal(net.version, 'v0.17.0');
  assert.equal(net.purl, 'pkg:golang/golang.org/x/net@v0.17.0');
  assert.deepEqual(net.locations, [{ path: '/src/svc/go.mod', layer: 3 }]);
  assert.equal(net.foundBy, 'gomod');
  const meta = net.metadata as Record<string, unknown>;
  assert.equal(meta['indirect'], true);
  assert.equal(meta['h1Digest'], 'h1:pVaXccu2ozPjCXewfr1S7xza/zcXTity9cCdXQYSjIM=');
  assert.equal(meta['replaces'], 'golang.org/x/net@v0.10.0');
  assert.equal(meta['mainModule'], 'github.com/acme/svc');
  assert.equal(byName.get('github.com/acme/lib')!.version, '(devel)');
  assert.equal((byName.get('github.com/spf13/cobra')!.metadata as Record<string, unknown>)['h1Digest'], 'h1:hyqWnYt1ZQShIddO5kBpj3vu05/++x6tJ6dg8EC572I=');
  assert.deepEqual(r.warnings, ['/src/svc/go.mod: line 16: require needs a module path and a version; skipped']);
});
