import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAccess, isLoopbackAddress } from './access.js';

test('loopback addresses, including IPv4-mapped ones', () => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) assert.equal(isLoopbackAddress(a), true, a);
  for (const a of [undefined, '', '10.0.0.1', '192.168.1.1', '::ffff:10.0.0.1', '::', '0.0.0.0', 'fe80::1', '128.0.0.1', 'localhost', '::ffff:7f00:1x'])
    assert.equal(isLoopbackAddress(a), false, String(a));
});

test('without a token: loopback only (unless loopback is untrusted)', () => {
  const trusted = { token: undefined, loopback: 'trusted' as const };
  assert.deepEqual(checkAccess(trusted, { remoteAddress: '127.0.0.1', authorization: undefined }), { ok: true });
  assert.deepEqual(checkAccess(trusted, { remoteAddress: '::1', authorization: 'Bearer whatever' }), { ok: true });
  // a browser on the host (or a page that rebound its name to 127.0.0.1) is not a local program
  assert.equal(checkAccess(trusted, { remoteAddress: '127.0.0.1', authorization: undefined, origin: 'http://evil.example' }).ok, false);
  assert.deepEqual(checkAccess({ token: 't', loopback: 'trusted' }, { remoteAddress: '127.0.0.1', authorization: 'Bearer t', origin: 'http://grafana.example' }), { ok: true });
  const remote = checkAccess(trusted, { remoteAddress: '10.1.2.3', authorization: undefined });
  assert.equal(remote.ok, false);
  assert.equal(!remote.ok && remote.status, 403);
  // a client cannot talk its way in with a token when none is configured
  assert.equal(checkAccess(trusted, { remoteAddress: '10.1.2.3', authorization: 'Bearer x' }).ok, false);
  const untrusted = { token: undefined, loopback: 'untrusted' as const };
  const d = checkAccess(untrusted, { remoteAddress: '127.0.0.1', authorization: undefined });
  assert.equal(!d.ok && d.status, 403);
});

test('with a token: it is required from everywhere, loopback included', () => {
  const p = { token: 's3cret-token', loopback: 'trusted' as const };
  assert.deepEqual(checkAccess(p, { remoteAddress: '10.0.0.9', authorization: 'Bearer s3cret-token' }), { ok: true });
  assert.deepEqual(checkAccess(p, { remoteAddress: '10.0.0.9', authorization: 'bearer   s3cret-token ' }), { ok: true });
  for (const authorization of [undefined, '', 'Bearer', 'Bearer wrong', 'Basic czNjcmV0LXRva2Vu', 'Bearer s3cret-token2', 'Bearer s3cret-toke']) {
    const d = checkAccess(p, { remoteAddress: '127.0.0.1', authorization });
    assert.equal(!d.ok && d.status, 401, String(authorization));
  }
});
