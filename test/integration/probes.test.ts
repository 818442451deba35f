// Health probes against real sockets (a local HTTP server, open and closed TCP ports), and the
// health wait's bounds over a scripted runtime. Real `docker exec` and real containers are in
// test/e2e/health.test.ts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { awaitHealthy } from '../../agent/src/apply/health.js';
import { runProbe, type ExecInService } from '../../agent/src/apply/probes.js';
import { DuckError } from '../../schemas/errors.js';
import type { ComposeRuntime, ServiceStatus } from '../../agent/src/ports.js';
import { freeHostPort } from '../../examples/harness/compose-project.js';

interface Ctx {
  server: Server;
  base: string;
  port: number;
}

const noExec: ExecInService = () => Promise.reject(new Error('no exec in this test'));

const it = suite<Ctx>('health probes', {} as Ctx);

it.before(async (ctx) => {
  ctx.server = createServer((req, res) => {
    if (req.url === '/ok') res.end('fine');
    else if (req.url === '/fail') res.writeHead(500).end('broken');
    else if (req.url === '/created') res.writeHead(201).end();
    // /hang: never answers, so only the probe's timeout ends the request.
  });
  await new Promise<void>((resolve) => ctx.server.listen(0, '127.0.0.1', resolve));
  ctx.port = (ctx.server.address() as AddressInfo).port;
  ctx.base = `http://127.0.0.1:${ctx.port}`;
});

it.after(async (ctx) => {
  ctx.server.closeAllConnections();
  await new Promise((resolve) => ctx.server.close(resolve));
});

it('http: passes on the default expected status 200', async (ctx) => {
  assert.equal(await runProbe({ http: `${ctx.base}/ok` }, { exec: noExec }), { ok: true, detail: 'status 200' });
});

it('http: fails on another status, saying which', async (ctx) => {
  assert.equal(await runProbe({ http: `${ctx.base}/fail` }, { exec: noExec }), { ok: false, detail: 'status 500, expected 200' });
});

it('http: passes on the status the probe names', async (ctx) => {
  assert.is((await runProbe({ http: `${ctx.base}/created`, status: 201 }, { exec: noExec })).ok, true);
});

it('http: a server that never answers fails at the probe timeout, not later', async (ctx) => {
  const started = Date.now();
  const result = await runProbe({ http: `${ctx.base}/hang`, timeout: '300ms' }, { exec: noExec });
  const ms = Date.now() - started;
  assert.equal(result, { ok: false, detail: 'no answer within 300ms' });
  assert.ok(ms >= 250 && ms < 2_000, `took ${ms} ms`);
});

it('http: a refused connection fails with the reason', async () => {
  const result = await runProbe({ http: `http://127.0.0.1:${await freeHostPort()}/` }, { exec: noExec });
  assert.is(result.ok, false);
  assert.match(result.detail, /ECONNREFUSED/);
});

it('http: an abort of the caller is thrown, not reported as a failed probe', async (ctx) => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('shutting down')), 100);
  const err = await runProbe({ http: `${ctx.base}/hang`, timeout: '10s' }, { exec: noExec, signal: controller.signal }).then(() => null, (e: Error) => e);
  assert.match(err?.message ?? 'resolved', /shutting down/);
});

it('tcp: passes on an open port', async (ctx) => {
  assert.equal(await runProbe({ tcp: `127.0.0.1:${ctx.port}` }, { exec: noExec }), { ok: true, detail: 'connected' });
});

it('tcp: fails on a closed port', async () => {
  const result = await runProbe({ tcp: `127.0.0.1:${await freeHostPort()}`, timeout: '2s' }, { exec: noExec });
  assert.is(result.ok, false);
  assert.match(result.detail, /ECONNREFUSED/);
});

it('tcp: fails on text that is not host:port', async () => {
  assert.equal(await runProbe({ tcp: 'localhost' }, { exec: noExec }), { ok: false, detail: '"localhost" is not host:port' });
});

it('command: passes on exit code 0, running the argv in the named service within the timeout', async () => {
  const calls: unknown[] = [];
  const exec: ExecInService = async (service, argv, timeoutMs) => {
    calls.push([service, argv, timeoutMs]);
    return { code: 0, output: 'ok\n' };
  };
  assert.equal(await runProbe({ command: ['pg_isready'], service: 'db', timeout: '3s' }, { exec }), { ok: true, detail: 'exit code 0' });
  assert.equal(calls, [['db', ['pg_isready'], 3_000]]);
});

it('command: fails on a non-zero exit code, with the output', async () => {
  const exec: ExecInService = async () => ({ code: 2, output: 'no response\n' });
  assert.equal(await runProbe({ command: ['pg_isready'], service: 'db' }, { exec }), { ok: false, detail: 'exit code 2: no response' });
});

it('command: an exec that throws (no container) is a failed attempt', async () => {
  const exec: ExecInService = () => Promise.reject(new Error('service db has no container'));
  assert.equal(await runProbe({ command: ['true'], service: 'db' }, { exec }), { ok: false, detail: 'service db has no container' });
});

it('the probe timeout is capped by what is left of the overall wait', async () => {
  let given = 0;
  const exec: ExecInService = async (_s, _a, timeoutMs) => ((given = timeoutMs), { code: 0, output: '' });
  await runProbe({ command: ['true'], service: 'web', timeout: '30s' }, { exec, maxTimeoutMs: 1_200 });
  assert.is(given, 1_200);
});

it.run();

// ── the wait, over a runtime whose ps answers are scripted ───────────────────────────────────────

const wait = suite<Ctx>('awaitHealthy over a scripted runtime', {} as Ctx);

function status(over: Partial<ServiceStatus>): ServiceStatus {
  return {
    service: 'web', container: 'shop-web-1', containerId: 'id', image: 'x:1', imageId: 'sha256:0',
    state: 'running', health: 'healthy', exitCode: 0, labels: {}, ...over,
  };
}

/** ps answers from the script in turn, repeating the last answer. */
function scripted(...answers: Array<Partial<ServiceStatus>[]>): ComposeRuntime & { calls: number } {
  const runtime = {
    calls: 0,
    ps: async () => (answers[Math.min(runtime.calls++, answers.length - 1)] ?? []).map(status),
    version: () => Promise.reject(new Error('unused')),
    up: () => Promise.reject(new Error('unused')),
    create: () => Promise.reject(new Error('unused')),
    start: () => Promise.reject(new Error('unused')),
    stop: () => Promise.reject(new Error('unused')),
    down: () => Promise.reject(new Error('unused')),
  };
  return runtime;
}

async function unhealthy(promise: Promise<unknown>): Promise<DuckError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DuckError && err.code === 'unhealthy') return err;
    throw err;
  }
  throw new Error('expected DuckError unhealthy, and it resolved');
}

wait('resolves once health turns from starting to healthy, logging each change once', async () => {
  const lines: string[] = [];
  const runtime = scripted([{ health: 'starting' }], [{ health: 'starting' }], [{ health: 'healthy' }]);
  await awaitHealthy({ runtime, project: 'p', app: 'shop', probes: [], timeoutMs: 5_000, pollMs: 10, exec: noExec, onProgress: (l) => lines.push(l) });
  assert.is(runtime.calls, 3);
  assert.equal(lines, ['service web: health starting', 'all services running and healthy']);
});

wait('fails at once, naming the service, when a container exits', async () => {
  const started = Date.now();
  const err = await unhealthy(awaitHealthy({ runtime: scripted([{ state: 'exited', exitCode: 3 }]), project: 'p', app: 'shop', probes: [], timeoutMs: 60_000, exec: noExec }));
  assert.ok(Date.now() - started < 1_000);
  assert.is(err.message, 'shop: service web exited with code 3');
  assert.equal(err.data, { app: 'shop', project: 'p', service: 'web', lastState: 'exited with code 3', ms: err.data.ms });
});

wait('times out with the last state seen, not later than the timeout', async () => {
  const started = Date.now();
  const err = await unhealthy(awaitHealthy({ runtime: scripted([{ health: 'starting' }]), project: 'p', app: 'shop', probes: [], timeoutMs: 400, pollMs: 150, exec: noExec }));
  const ms = Date.now() - started;
  assert.ok(ms >= 400 && ms < 900, `took ${ms} ms`);
  assert.is(err.message, 'shop: service web is unhealthy after 400ms (last: health starting)');
  assert.is(err.data.lastState, 'health starting');
});

wait('a ps that hangs cannot stretch the wait past its timeout', async () => {
  const runtime = { ...scripted([]), ps: () => new Promise<ServiceStatus[]>(() => undefined) };
  const started = Date.now();
  await unhealthy(awaitHealthy({ runtime, project: 'p', probes: [], timeoutMs: 300, exec: noExec }));
  assert.ok(Date.now() - started < 800);
});

wait('probes run only once services are healthy, and a failing probe is retried until it passes', async (ctx) => {
  let execs = 0;
  const exec: ExecInService = async () => ({ code: ++execs >= 3 ? 0 : 1, output: '' });
  const runtime = scripted([{ health: 'starting' }], [{ health: 'healthy' }]);
  await awaitHealthy({ runtime, project: 'p', probes: [{ http: `${ctx.base}/ok` }, { command: ['true'], service: 'web' }], timeoutMs: 5_000, pollMs: 10, exec });
  assert.is(execs, 3);
});

wait('a probe still failing at the timeout is named in the error', async (ctx) => {
  const probe = { http: `${ctx.base}/fail` };
  const err = await unhealthy(awaitHealthy({ runtime: scripted([{}]), project: 'p', probes: [probe], timeoutMs: 300, pollMs: 50, exec: noExec }));
  assert.is(err.message, `p: probe ${probe.http} failed after 300ms (last: status 500, expected 200)`);
  assert.is(err.data.probe, probe.http);
});

wait('an abort ends the wait with the signal reason', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('agent stopping')), 100);
  const started = Date.now();
  const err = await awaitHealthy({ runtime: scripted([{ health: 'starting' }]), project: 'p', probes: [], timeoutMs: 60_000, pollMs: 5_000, exec: noExec, signal: controller.signal })
    .then(() => null, (e: Error) => e);
  assert.match(err?.message ?? 'resolved', /agent stopping/);
  assert.ok(Date.now() - started < 1_000);
});

wait.before(async (ctx) => {
  ctx.server = createServer((req, res) => res.writeHead(req.url === '/ok' ? 200 : 500).end());
  await new Promise<void>((resolve) => ctx.server.listen(0, '127.0.0.1', resolve));
  ctx.base = `http://127.0.0.1:${(ctx.server.address() as AddressInfo).port}`;
});

wait.after(async (ctx) => {
  ctx.server.closeAllConnections();
  await new Promise((resolve) => ctx.server.close(resolve));
});

wait.run();
