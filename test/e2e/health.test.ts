// e2e lane: own compose project
// The health wait against real containers: the hello example's healthy 1.0.0 passes its compose
// healthcheck, an HTTP probe on the published port and a command probe run by `docker exec`; the
// broken 1.2.0 (no index page, so its healthcheck never passes) is refused within the timeout.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createComposeCli, detectCompose } from '../../agent/src/adapters/compose-cli.js';
import { awaitHealthy, dockerExec } from '../../agent/src/apply/health.js';
import type { ComposeRuntime, ComposeTarget } from '../../agent/src/ports.js';
import type { Probe } from '../../schemas/index.js';
import { freeHostPort, removeProject } from '../../examples/harness/compose-project.js';
import { requireDocker, saveProjectArtifacts, uniqueProjectName } from '../helpers/docker.js';
import { buildHelloImage, HELLO_COMPOSE_FILE, helloComposeEnv, HELLO_SERVICE, type HelloVersion } from '../helpers/images.js';
import { rejection } from '../helpers/rejection.js';

await requireDocker();

interface Context {
  runtime: ComposeRuntime;
  project: string;
  dir: string;
  port: number;
}

const it = suite<Context>('awaitHealthy against the hello stack (real Docker)', {} as Context);

const WGET_INDEX = ['/bin/busybox', 'wget', '-q', '-O-', 'http://127.0.0.1:8080/'];

it.before(async (ctx) => {
  try {
    await buildHelloImage('1.0.0');
    await buildHelloImage('1.2.0');
    ctx.runtime = createComposeCli(await detectCompose());
    ctx.project = uniqueProjectName('duck-e2e-health');
    ctx.dir = await mkdtemp(join(tmpdir(), 'duck-e2e-health-'));
    await copyFile(HELLO_COMPOSE_FILE, join(ctx.dir, 'compose.yaml'));
    ctx.port = await freeHostPort();
  } catch (err) {
    // uvu swallows an error thrown by a before hook (its tests just count as not passed): say it.
    console.error('health setup failed:', err);
    throw err;
  }
});

it.after(async (ctx) => {
  try {
    if (ctx.project !== undefined) await removeProject(ctx.project);
  } finally {
    if (ctx.dir !== undefined) await rm(ctx.dir, { recursive: true, force: true });
  }
});

function target(ctx: Context, version: HelloVersion): ComposeTarget {
  return {
    cwd: ctx.dir,
    files: ['compose.yaml'],
    env: { ...helloComposeEnv(version), HELLO_PORT: String(ctx.port), DUCK_DATA_DIR: join(ctx.dir, 'data'), DUCK_LOCK_DIR: join(ctx.dir, 'lock') },
  };
}

function waitFor(ctx: Context, probes: Probe[], timeoutMs: number): Promise<{ ms: number }> {
  const exec = dockerExec(async (service) => {
    const found = (await ctx.runtime.ps(ctx.project)).find((s) => s.service === service);
    if (!found) throw new Error(`service ${service} has no container`);
    return found.containerId;
  });
  return awaitHealthy({ runtime: ctx.runtime, project: ctx.project, app: 'hello', expectedServices: [HELLO_SERVICE], probes, timeoutMs, exec, pollMs: 250 });
}

/** Keeps what the containers said when a test fails, for CI. */
async function withArtifacts(ctx: Context, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    await saveProjectArtifacts(ctx.project).catch(() => null);
    throw err;
  }
}

it('1.0.0 becomes healthy: compose healthcheck, an HTTP probe on the published port, a command probe in web', (ctx) =>
  withArtifacts(ctx, async () => {
    await ctx.runtime.up(ctx.project, target(ctx, '1.0.0'));
    const probes: Probe[] = [
      { http: `http://127.0.0.1:${ctx.port}/`, timeout: '2s' },
      { command: WGET_INDEX, service: HELLO_SERVICE, timeout: '5s' },
    ];
    const { ms } = await waitFor(ctx, probes, 30_000);
    assert.ok(ms < 30_000, `took ${ms} ms`);
    const [web] = await ctx.runtime.ps(ctx.project);
    assert.is(web?.health, 'healthy');
  }));

it('a probe on a closed port fails a healthy stack with unhealthy, naming the probe', (ctx) =>
  withArtifacts(ctx, async () => {
    const closed = `127.0.0.1:${await freeHostPort()}`;
    const started = Date.now();
    const err = await rejection(waitFor(ctx, [{ tcp: closed, timeout: '1s' }], 3_000));
    const ms = Date.now() - started;
    assert.is(err.code, 'unhealthy');
    assert.is(err.data.probe, `tcp ${closed}`, err.message);
    assert.match(err.message, `hello: probe tcp ${closed} failed after 3.0s`);
    assert.match(String(err.data.lastState), /ECONNREFUSED/);
    assert.ok(ms >= 3_000 && ms < 6_000, `took ${ms} ms`);
  }));

it('a command probe that exits non-zero in the container fails with its exit code', (ctx) =>
  withArtifacts(ctx, async () => {
    const probe: Probe = { command: ['/bin/busybox', 'wget', '-q', '-O-', 'http://127.0.0.1:8080/missing'], service: HELLO_SERVICE };
    const err = await rejection(waitFor(ctx, [probe], 2_000));
    assert.is(err.code, 'unhealthy');
    assert.match(String(err.data.lastState), /^exit code 1/, err.message);
  }));

it('a command probe cut off by its timeout fails, never passes (the docker client exits 0 when terminated)', (ctx) =>
  withArtifacts(ctx, async () => {
    const probe: Probe = { command: ['/bin/busybox', 'sleep', '5'], service: HELLO_SERVICE, timeout: '300ms' };
    const err = await rejection(waitFor(ctx, [probe], 2_000));
    assert.is(err.code, 'unhealthy');
    assert.match(String(err.data.lastState), /^exit code 124: no exit within 300ms/, err.message);
  }));

it('1.2.0 never becomes healthy and is refused with unhealthy within its timeout', (ctx) =>
  withArtifacts(ctx, async () => {
    await ctx.runtime.up(ctx.project, target(ctx, '1.2.0'));
    const started = Date.now();
    const err = await rejection(waitFor(ctx, [{ http: `http://127.0.0.1:${ctx.port}/` }], 15_000));
    const ms = Date.now() - started;
    assert.is(err.code, 'unhealthy');
    assert.is(err.data.app, 'hello');
    assert.is(err.data.service, HELLO_SERVICE);
    assert.match(err.message, /^hello: service web (is unhealthy|.* after 15s)/);
    // The healthcheck fails after start_period + 3 retries (~5 s): a hard failure ends the wait early.
    assert.ok(ms < 15_000 + 2_000, `took ${ms} ms`);
  }));

it.run();
