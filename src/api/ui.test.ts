/** The web UI's static files at /ui/ (src/api/ui.ts) and the browser redirect at `/`. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { assertErrorBody, describeService } from '../testkit/service.js';
import { ensureUiBuilt } from '../testkit/ui-build.js';
import { uiFile } from './ui.js';

test('uiFile keeps paths inside the UI directory', () => {
  const root = '/srv/dist/ui';
  assert.equal(uiFile(root, ''), '/srv/dist/ui/index.html');
  assert.equal(uiFile(root, 'assets/index-abc.js'), '/srv/dist/ui/assets/index-abc.js');
  assert.equal(uiFile(root, '/etc/passwd'), '/srv/dist/ui/etc/passwd');
  assert.equal(uiFile(root, '../package.json'), undefined);
  assert.equal(uiFile(root, 'assets/%2e%2e/%2e%2e/package.json'), undefined);
  assert.equal(uiFile(root, 'assets/..%5c..%5cpackage.json'), undefined);
  assert.equal(uiFile(root, 'a%00b'), undefined);
  assert.equal(uiFile(root, '%E0%A4%A'), undefined);
});

describeService('web UI files', {}, (h) => {
  before(() => {
    ensureUiBuilt();
  });

  /** Raw requests: fetch would normalise `..` away before it reaches the server. */
  const raw = async (path: string, headers: Record<string, string> = {}) => {
    const r = await request(`${h().svc.url}${path}`, { headers });
    return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
  };

  test('index.html at /ui and /ui/, without credentials, same-origin only', async () => {
    for (const path of ['/ui', '/ui/', '/ui/index.html']) {
      const r = await raw(path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(r.headers['cache-control'], 'no-cache');
      assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
      assert.match(r.text, /<div id="app"><\/div>/);
      assert.match(r.text, /src="\/ui\/assets\/index-[\w-]+\.js"/);
      assert.doesNotMatch(r.text, /(?:src|href)="(?:https?:)?\/\//, 'no external resources');
    }
  });

  test('hashed assets with their content types and a year of caching', async () => {
    const index = (await raw('/ui/')).text;
    const js = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(index)?.[1];
    const css = /href="(\/ui\/assets\/[^"]+\.css)"/.exec(index)?.[1];
    assert.ok(js && css, index);
    const a = await raw(js);
    assert.equal(a.status, 200);
    assert.equal(a.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(a.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(a.headers['x-content-type-options'], 'nosniff');
    assert.ok(a.text.length > 1000);
    const c = await raw(css);
    assert.equal(c.headers['content-type'], 'text/css; charset=utf-8');
    assert.doesNotMatch(c.text, /@import|url\(\s*["']?https?:/, 'no external fonts or stylesheets');
  });

  test('missing files and paths leaving the UI directory are 404s', async () => {
    for (const path of ['/ui/assets/nope.js', '/ui/assets', '/ui/%2e%2e/package.json', '/ui/assets/..%2f..%2f..%2fpackage.json', '/ui/../package.json', '/ui//etc/passwd', '/ui/a%00b']) {
      const r = await raw(path);
      assert.equal(r.status, 404, `${path}: ${r.text}`);
      assert.doesNotMatch(r.text, /"name":\s*"lading"/, path);
      assertErrorBody({ status: r.status, body: JSON.parse(r.text), headers: new Headers(), text: r.text }, 404);
    }
  });

  test('/ sends browsers to the UI and API clients still get "v1"', async () => {
    const browser = await raw('/', { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' });
    assert.equal(browser.status, 302);
    assert.equal(browser.headers.location, '/ui/');
    for (const accept of [undefined, 'application/json', '*/*']) {
      const r = await raw('/', accept ? { accept } : {});
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.text), 'v1');
    }
    const v1 = await raw('/v1/', { accept: 'application/json' });
    assert.equal(JSON.parse(v1.text), 'v1');
  });
});
