// Issue 16 point 1: `duck console`, the node's local web console: login by a one-time link, the
// Host and Origin checks, the session on every API route, and the address policy. Over real HTTP,
// against the real CLI process (`duck console`, and `duck run` with agent.yaml console.port).
import { appendFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { issueLoginToken, LOGIN_TOKEN_TTL_MS } from '../../agent/src/console/login-token.js';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { startDaemon } from '../../examples/harness/daemon.js';
import { run } from '../../examples/harness/tmp.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import type { Served } from '../helpers/console.js';
import { call, freePort, login, serveConsole, sessionOf, stopConsole } from '../helpers/console.js';

interface Ctx {
  host: ChannelHost;
  node: AgentNode;
  served: Served | null;
}

const Console = suite<Ctx>('duck console: the local server and its login', {} as Ctx);

Console.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-console-');
  ctx.node = (await ctx.host.fresh()).node;
});

/** `duck console --open --port 0` for this test (in the test, so a failure to start fails it). */
async function opened(ctx: Ctx): Promise<Served> {
  ctx.served = await serveConsole(ctx.node, '--port', '0');
  return ctx.served;
}

Console.after.each(async (ctx) => {
  if (ctx.served) await stopConsole(ctx.served);
  ctx.served = null;
});

Console.after(async (ctx) => {
  await ctx.host.close();
});

Console('the link logs in once: a session cookie, then the status duck status --json gives; the same link again is refused', async (ctx) => {
  const { origin, token } = await opened(ctx);
  assert.match(origin, /^http:\/\/127\.0\.0\.1:\d+$/);
  const tokenFile = await stat(join(ctx.node.stateDir, 'console', 'login-token.json'));
  assert.is(tokenFile.mode & 0o777, 0o600, 'the token is readable by its owner only');
  const first = await login(origin, token);
  assert.is(first.status, 200, first.text);
  const cookie = (first.headers['set-cookie'] as string[])[0]!;
  for (const attribute of ['HttpOnly', 'SameSite=Strict', 'Path=/']) assert.ok(cookie.includes(attribute), `${attribute} in ${cookie}`);
  assert.not.ok(cookie.includes('Secure'), 'no Secure flag over plain loopback HTTP');
  const status = await call(origin, '/api/status', { headers: { cookie: sessionOf(first) } });
  assert.is(status.status, 200, status.text);
  const cli = await ctx.node.duck('status', '--json');
  assert.equal(status.body, cli.json);
  const again = await login(origin, token);
  assert.is(again.status, 401);
  assert.is(again.body?.reason, 'none');
});

Console('a wrong link is refused and leaves the real one usable; an expired one is refused', async (ctx) => {
  const { origin, token } = await opened(ctx);
  const wrong = await login(origin, `${token.slice(0, -2)}xx`);
  assert.is(wrong.status, 401);
  assert.is(wrong.body?.reason, 'wrong');
  assert.is((await login(origin, 'not-even-close')).status, 401);
  assert.is((await login(origin, token)).status, 200);
  const old = await issueLoginToken(ctx.node.stateDir, new Date(Date.now() - LOGIN_TOKEN_TTL_MS - 1000));
  const expired = await login(origin, old);
  assert.is(expired.status, 401);
  assert.is(expired.body?.reason, 'expired');
  assert.match(String(expired.body?.message), /duck console --open/);
});

Console('a foreign Host (DNS rebinding) and a foreign Origin (CSRF) are refused, and spend nothing', async (ctx) => {
  const { origin, token } = await opened(ctx);
  const port = new URL(origin).port;
  const rebound = await call(origin, '/', { headers: { host: `attacker.example:${port}` } });
  assert.is(rebound.status, 421);
  const reboundLogin = await login(origin, token, { host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` });
  assert.is(reboundLogin.status, 421);
  const forged = await login(origin, token, { origin: 'http://attacker.example' });
  assert.is(forged.status, 403);
  const noOrigin = await call(origin, '/api/login', { method: 'POST', body: { token } });
  assert.is(noOrigin.status, 403, 'a write without Origin is refused too');
  // None of these spent the link.
  assert.is((await login(origin, token)).status, 200);
  // localhost is loopback's own name: the page opened as http://localhost:<port> works.
  assert.is((await call(origin, '/', { headers: { host: `localhost:${port}` } })).status, 200);
});

Console('no session, no API: 401; the page is served with a strict CSP', async (ctx) => {
  const { origin } = await opened(ctx);
  assert.is((await call(origin, '/api/status')).status, 401);
  assert.is((await call(origin, '/api/status', { headers: { cookie: 'duck_console=forged' } })).status, 401);
  assert.is((await call(origin, '/api/anything-else')).status, 401);
  for (const path of ['/', '/login']) {
    const page = await call(origin, path);
    assert.is(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.match(page.text, /<script type="module" src="\/app\.js"><\/script>/);
  }
  const script = await call(origin, '/app.js');
  assert.match(String(script.headers['content-type']), /^text\/javascript/);
});

Console('POST /api/acts carries an act out through the writer; a purge or an unknown field is refused naming the field', async (ctx) => {
  const { origin, token } = await opened(ctx);
  const cookie = sessionOf(await login(origin, token));
  // This suite's channel has no branch yet: the writer's fetch fails, and the page gets its error.
  const fetched = await call(origin, '/api/acts', { method: 'POST', headers: { cookie, origin }, body: { kind: 'fetch' } });
  assert.is(fetched.status, 502, fetched.text);
  assert.is(fetched.body?.code, 'fetch');
  assert.match(String(fetched.body?.message), /has no branch "main"/);
  const purge = await call(origin, '/api/acts', { method: 'POST', headers: { cookie, origin }, body: { kind: 'purge', app: 'shop' } });
  assert.is(purge.status, 400);
  assert.match(String(purge.body?.message), /kind must be one of/);
  const noApp = await call(origin, '/api/acts', { method: 'POST', headers: { cookie, origin }, body: { kind: 'stop' } });
  assert.is(noApp.status, 400);
  assert.match(String(noApp.body?.message), /app must be a non-empty string/);
  const notJson = await call(origin, '/api/acts', { method: 'POST', headers: { cookie, origin, 'content-type': 'application/json' }, body: undefined });
  assert.is(notJson.status, 400, 'an empty body is no act');
});

Console('a non-loopback address without TLS is refused, naming the flags', async (ctx) => {
  for (const listen of ['0.0.0.0', '192.0.2.10']) {
    const refused = await ctx.node.duck('console', '--listen', listen, '--port', '0');
    assert.is(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /refuses to listen on .* without TLS: give --tls-cert FILE and --tls-key FILE with --listen/);
  }
  const half = await ctx.node.duck('console', '--listen', '0.0.0.0', '--port', '0', '--tls-cert', join(ctx.node.dir, 'cert.pem'));
  assert.is(half.code, 2);
  assert.match(half.stderr, /both --tls-cert and --tls-key/);
});

Console('with --listen, a certificate and a key it serves HTTPS, and the session cookie is Secure', async (ctx) => {
  const cert = join(ctx.node.dir, 'console-cert.pem');
  const key = join(ctx.node.dir, 'console-key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert]);
  ctx.served = await serveConsole(ctx.node, '--listen', '127.0.0.1', '--port', '0', '--tls-cert', cert, '--tls-key', key);
  const { origin, token } = ctx.served;
  assert.match(origin, /^https:\/\/127\.0\.0\.1:\d+$/);
  const plainOrigin = await login(origin, token, { origin: origin.replace('https:', 'http:') });
  assert.is(plainOrigin.status, 403, 'an http: Origin is not the https: console');
  const first = await login(origin, token);
  assert.is(first.status, 200, first.text);
  assert.ok((first.headers['set-cookie'] as string[])[0]!.includes('; Secure'));
  assert.is((await call(origin, '/api/status', { headers: { cookie: sessionOf(first) } })).status, 200);
});

Console('duck run serves the console agent.yaml asks for; duck console --open logs in to it', async (ctx) => {
  const { node } = await ctx.host.fresh();
  const port = await freePort();
  await appendFile(node.configFile, `console:\n  port: ${port}\n`);
  const daemon = startDaemon(node);
  try {
    const started = await daemon.waitFor((e) => e.event === 'console', 'the console served');
    assert.is(started.url, `http://127.0.0.1:${port}`);
    const opened = await node.duck('console', '--open');
    assert.is(opened.code, 0, opened.stderr);
    const link = new URL(opened.stdout.trim());
    assert.is(link.origin, `http://127.0.0.1:${port}`);
    const first = await login(link.origin, link.hash.slice(1));
    assert.is(first.status, 200, first.text);
    const status = await call(link.origin, '/api/status', { headers: { cookie: sessionOf(first) } });
    assert.is(status.status, 200);
    assert.is(status.body?.ok, true);
  } finally {
    await daemon.stop();
  }
});

Console.run();
