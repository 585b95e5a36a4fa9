import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { isLadingError } from '../../errors.js';
import { OutboundGuard, type OutboundPolicy } from './guard.js';
import { HttpClient } from './http.js';

const service: OutboundPolicy = { allow: [], deny: [], allowLoopback: false, allowPrivate: true };

test('the rules: metadata and link-local always, loopback by setting, private by setting, allow and deny lists first', () => {
  const g = new OutboundGuard(service);
  const refused = (host: string, address?: string) => g.refusal(host, address);
  for (const [host, address] of [['169.254.169.254'], ['169.254.1.2'], ['fe80::1'], ['[fd00:ec2::254]'], ['::ffff:169.254.169.254'], ['::ffff:a9fe:a9fe'], ['100.100.100.200'], ['metadata.google.internal'], ['Metadata.Google.Internal.'], ['evil.example', '169.254.169.254']] as [string, string?][]) {
    assert.match(refused(host, address) ?? '', /link-local or cloud metadata address \(list it in outbound.allow/, host);
  }
  for (const [host, address] of [['127.0.0.1'], ['127.1.2.3'], ['::1'], ['0.0.0.0'], ['localhost'], ['a.localhost'], ['::ffff:127.0.0.1'], ['rebind.example', '127.0.0.1']] as [string, string?][]) {
    assert.match(refused(host, address) ?? '', /a loopback address \(set outbound.allow_loopback: true/, host);
  }
  assert.match(refused('224.0.0.1') ?? '', /not a unicast address/);
  for (const host of ['10.1.2.3', '192.168.0.1', '172.16.5.5', 'fd12::1', '8.8.8.8', 'registry.example.com']) assert.equal(refused(host), undefined, host);

  const strict = new OutboundGuard({ ...service, allowLoopback: true, allowPrivate: false });
  assert.equal(strict.refusal('127.0.0.1'), undefined);
  assert.match(strict.refusal('registry.corp', '10.0.0.7') ?? '', /registry.corp \(10.0.0.7\) refused: a private address and outbound.allow_private is false/);

  const lists = new OutboundGuard({ ...service, allow: ['registry.corp', '10.9.0.0/16', '127.0.0.1'], deny: ['*.evil.example', '8.8.0.0/16', 'docker.io'] });
  assert.equal(lists.refusal('registry.corp', '169.254.1.1'), undefined, 'an allowed name is trusted whatever it resolves to');
  assert.equal(lists.refusal('x', '10.9.1.1'), undefined);
  assert.equal(lists.refusal('127.0.0.1'), undefined);
  assert.match(lists.refusal('a.evil.example', '1.2.3.4') ?? '', /outbound.deny entry "\*.evil.example"/);
  assert.match(lists.refusal('dns.example', '8.8.8.8') ?? '', /outbound.deny entry "8.8.0.0\/16"/);
  assert.match(lists.refusal('docker.io') ?? '', /outbound.deny entry "docker.io"/);
  assert.throws(() => new OutboundGuard({ ...service, deny: ['10.0.0.0/40'] }), /outbound.deny: "10.0.0.0\/40" has an invalid prefix length/);

  assert.equal(new OutboundGuard({ ...service, allowLinkLocal: true }).refusal('169.254.169.254'), undefined);
});

test('the HTTP client refuses before connecting: address literals, names resolving to refused addresses, redirects to them', async () => {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    if (req.url === '/redirect') {
      res.writeHead(302, { location: 'https://169.254.169.254/latest/meta-data/' }).end();
      return;
    }
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const denied = (e: unknown, re: RegExp) => isLadingError(e) && e.code === 'DESTINATION_DENIED' && re.test(e.message);
  try {
    const guarded = new HttpClient({ guard: new OutboundGuard(service), maxAttempts: 1 });
    await assert.rejects(guarded.request({ url: `http://127.0.0.1:${port}/` }), (e) => denied(e, /127.0.0.1 refused: a loopback address/));
    // localhost is refused by name; a name the resolver maps to 127.0.0.1 is refused by its address, at connection time
    await assert.rejects(guarded.request({ url: `http://localhost:${port}/` }), (e) => denied(e, /localhost refused: a loopback address/));
    const byAddress = new HttpClient({ guard: new OutboundGuard({ ...service, deny: ['127.0.0.0/8'], allowLoopback: true }), maxAttempts: 1 });
    await assert.rejects(byAddress.request({ url: `http://localhost:${port}/` }), (e) => denied(e, /localhost \(127.0.0.1\) refused: it matches outbound.deny entry "127.0.0.0\/8"/));
    assert.equal(hits, 0);
    const loopbackOk = new HttpClient({ guard: new OutboundGuard({ ...service, allowLoopback: true }), maxAttempts: 1 });
    assert.equal((await loopbackOk.request({ url: `http://127.0.0.1:${port}/` })).status, 200);
    await assert.rejects(loopbackOk.request({ url: `http://127.0.0.1:${port}/redirect` }), (e) => denied(e, /169.254.169.254 refused: a link-local or cloud metadata address/));
    assert.equal(hits, 2);
    await Promise.all([guarded.close(), byAddress.close(), loopbackOk.close()]);
  } finally {
    server.close();
  }
});
