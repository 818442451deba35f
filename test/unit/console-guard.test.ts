// The console's pure checks (issue 16 point 1): its address policy and the per-request guard.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allowedHosts, checkRequest, cookieValue } from '../../agent/src/console/guard.js';
import { planListen } from '../../agent/src/console/listen.js';

test('loopback needs nothing; any other address needs --listen with a certificate and key', () => {
  assert.equal(planListen({ port: 8474 }), { host: '127.0.0.1', port: 8474, tls: null });
  assert.equal(planListen({ listen: '::1', port: 1 }).tls, null);
  assert.throws(() => planListen({ listen: '0.0.0.0', port: 8474 }), /without TLS: give --tls-cert FILE and --tls-key FILE with --listen/);
  assert.throws(() => planListen({ listen: '10.0.0.5', port: 8474, tlsCert: 'c.pem' }), /both --tls-cert and --tls-key/);
  assert.throws(() => planListen({ listen: 'node.example', port: 8474 }), /give an IP address/);
  assert.equal(planListen({ listen: '10.0.0.5', port: 8474, tlsCert: 'c.pem', tlsKey: 'k.pem' }).tls, { certFile: 'c.pem', keyFile: 'k.pem' });
});

test('Host must be the listen address (or localhost on loopback); Origin must match on writes', () => {
  const hosts = allowedHosts('127.0.0.1', 8474);
  const ok = { host: '127.0.0.1:8474', origin: 'http://127.0.0.1:8474' };
  assert.is(checkRequest({ method: 'POST', ...ok }, hosts, 'http'), null);
  assert.is(checkRequest({ method: 'GET', host: 'localhost:8474', origin: undefined }, hosts, 'http'), null);
  assert.is(checkRequest({ method: 'GET', host: 'evil.example:8474', origin: undefined }, hosts, 'http')?.status, 421);
  assert.is(checkRequest({ method: 'GET', host: undefined, origin: undefined }, hosts, 'http')?.status, 421);
  assert.is(checkRequest({ method: 'POST', host: ok.host, origin: 'http://evil.example' }, hosts, 'http')?.status, 403);
  assert.is(checkRequest({ method: 'POST', host: ok.host, origin: undefined }, hosts, 'http')?.status, 403);
  assert.is(checkRequest({ method: 'POST', ...ok }, hosts, 'https')?.status, 403, 'the scheme is part of the origin');
  assert.not.ok(allowedHosts('10.0.0.5', 443).has('localhost:443'), 'localhost is not a non-loopback console name');
  assert.ok(allowedHosts('::1', 8474).has('[::1]:8474'));
});

test('the session cookie is read from a Cookie header among others', () => {
  assert.is(cookieValue('a=1; duck_console=abc; b=2', 'duck_console'), 'abc');
  assert.is(cookieValue(undefined, 'duck_console'), undefined);
  assert.is(cookieValue('xduck_console=abc', 'duck_console'), undefined);
});

test.run();
