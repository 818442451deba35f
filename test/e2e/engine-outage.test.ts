// e2e lane: own compose project
// Issue 12 §6: a Docker outage in the middle of an upgrade. The agent talks to the real engine
// through a socket proxy the test controls (DOCKER_HOST), cut while the new version's health is
// awaited and brought back later: an outage shorter than apply.engineWait is waited out and the
// upgrade goes on; a longer one ends in rollback-failed without blaming the release, and the next
// run, once the engine answers, repairs the app to the version it records — what runs and what the
// state says agree, and no version is quarantined for an infrastructure fault.
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import type { AgentState } from '../../agent/src/core/agent-state.js';
import type { DuckResult } from '../../examples/harness/agent-node.js';
import { helloComposeYaml } from '../../examples/hello/app.js';
import { sha256 } from '../helpers/channel-fixtures.js';
import type { DockerSocketProxy } from '../helpers/docker-socket-proxy.js';
import { startDockerSocketProxy } from '../helpers/docker-socket-proxy.js';
import { requireDocker, uniqueProjectName } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { startHelloScenario } from '../helpers/hello-channel.js';

await requireDocker();

interface Ctx {
  s: HelloScenario;
  proxy: DockerSocketProxy;
}

const Outage = suite<Ctx>('a Docker outage during an upgrade (real engine behind a socket proxy)', {} as Ctx);
const PRECIOUS = 'precious.txt';
const PRECIOUS_TEXT = 'kept through the outage\n';
/** How long the engine stays away in the first case: longer than any backoff step, shorter than apply.engineWait. */
const SHORT_OUTAGE_MS = 6_000;

/**
 * 1.1.0 takes a few seconds to become healthy (its healthcheck passes from its fifth run on), so
 * the outage can begin while its health is awaited; the start period keeps the early failures from
 * counting.
 */
async function slowHealthCompose(): Promise<string> {
  const compose = await helloComposeYaml('1.1.0');
  const check = '["CMD", "/bin/busybox", "sh", "-c", "n=$$(/bin/busybox cat /www/.checks 2>/dev/null || echo 0); n=$$((n+1)); echo $$n > /www/.checks; test $$n -gt 4"]';
  const slow = compose.replace(/test: \[.*\]/, () => `test: ${check}`).replace('start_period: 2s', 'start_period: 60s');
  assert.is.not(slow, compose, 'the healthcheck was replaced');
  return slow;
}

Outage.before(async (ctx) => {
  try {
    const slow = await slowHealthCompose();
    ctx.s = await startHelloScenario({
      prefix: 'duck-e2e-outage-',
      app: uniqueProjectName('hello'),
      releases: { '1.0.0': {}, '1.1.0': { healthTimeout: '20s', extra: { files: { 'compose.yaml': sha256(slow) } } } },
    });
    await ctx.s.ch.write(`releases/${ctx.s.app}/1.1.0/compose.yaml`, slow);
    ctx.proxy = await startDockerSocketProxy(ctx.s.node.dir);
    await publish(ctx, '1.0.0');
    await runOnce(ctx);
    await writeFile(ctx.s.dataFile(PRECIOUS), PRECIOUS_TEXT);
  } catch (err) {
    console.error('engine-outage setup failed:', err);
    throw err;
  }
});

Outage.after(async (ctx) => {
  await ctx.proxy?.close();
  await ctx.s?.close();
});

async function publish(ctx: Ctx, version: string): Promise<void> {
  await ctx.s.ch.write('groups/production.yaml', stringify({ apps: { [ctx.s.app]: version } }));
  await ctx.s.ch.commit(`${ctx.s.app} ${version}`, ctx.s.key);
  await ctx.s.ch.publish();
}

/** `duck` with the engine behind the proxy. */
function duck(ctx: Ctx, ...args: string[]): Promise<DuckResult> {
  return ctx.s.node.duckWith({ DOCKER_HOST: ctx.proxy.dockerHost }, ...args);
}

async function runOnce(ctx: Ctx): Promise<DuckResult> {
  const r = await duck(ctx, 'run', '--once');
  assert.is(r.code, 0, `duck run --once: ${r.stderr}`);
  return r;
}

/** apply.engineWait in the node's agent.yaml; null: the default. */
async function setEngineWait(ctx: Ctx, wait: string | null): Promise<void> {
  const file = ctx.s.node.configFile;
  const config = parse(await readFile(file, 'utf8')) as { apply?: Record<string, unknown> };
  const { engineWait: _old, ...apply } = config.apply ?? {};
  await writeFile(file, stringify({ ...config, apply: wait === null ? apply : { ...apply, engineWait: wait } }));
}

/** Resolves once the journal says the app's health is being awaited (the agent runs meanwhile). */
async function healthAwaited(ctx: Ctx, running: Promise<DuckResult>): Promise<void> {
  let ended: DuckResult | null = null;
  void running.then((r) => (ended = r));
  for (;;) {
    if (ended) assert.unreachable(`the run ended before the health wait began: ${(ended as DuckResult).stdout}${(ended as DuckResult).stderr}`);
    const state = await ctx.s.readState().catch(() => null);
    const journal = state?.journal[ctx.s.app];
    if (journal && journal.steps[journal.running]?.kind === 'awaitHealth') return;
    await sleep(100);
  }
}

function lastChange(state: AgentState, app: string) {
  return [...state.history].reverse().find((h) => h.app === app);
}

/** What the state records, what `duck status --json` says and what the app serves agree. */
async function stateIsTrue(ctx: Ctx, version: string): Promise<void> {
  const state = await ctx.s.readState();
  assert.equal(state.journal, {}, 'no change left halfway');
  assert.is(state.apps[ctx.s.app]?.version, version, 'recorded version');
  assert.is(state.apps[ctx.s.app]?.repair, undefined, 'nothing left in doubt');
  assert.is(await ctx.s.served(), version, 'the recorded version is the one serving');
  const status = await duck(ctx, 'status', '--json');
  assert.is(status.code, 0, status.stderr);
  const apps = (status.json?.apps ?? []) as Array<{ app: string; current: string | null }>;
  assert.is(apps.find((a) => a.app === ctx.s.app)?.current, version, 'duck status tells what runs');
  assert.is(await readFile(ctx.s.dataFile(PRECIOUS), 'utf8'), PRECIOUS_TEXT, 'data kept');
}

Outage('an outage past apply.engineWait ends in rollback-failed, blames no release, and is repaired once the engine answers', async (ctx) => {
  await setEngineWait(ctx, '2s');
  await publish(ctx, '1.1.0');
  const running = duck(ctx, 'run', '--once');
  await healthAwaited(ctx, running);
  // The socket is gone: docker reads "Cannot connect to the Docker daemon", docker-compose a refused connection.
  await ctx.proxy.cut('gone');
  const r = await running;
  assert.ok(r.code < 128, `the agent ends by itself: ${r.stderr}`);
  let state = await ctx.s.readState();
  const failed = lastChange(state, ctx.s.app);
  assert.is(failed?.outcome, 'rollback-failed', failed?.reason);
  assert.is(failed?.failureCode, 'docker', 'the history says the engine failed');
  assert.is(state.failed[ctx.s.app], undefined, 'an engine outage quarantines nothing');
  assert.is(state.apps[ctx.s.app]?.repair?.failedTo, '1.1.0', 'the doubt about what runs is recorded');

  await ctx.proxy.restore();
  await runOnce(ctx);
  state = await ctx.s.readState();
  const repair = lastChange(state, ctx.s.app);
  assert.is(repair?.trigger, 'repair', repair?.reason);
  assert.is(repair?.outcome, 'applied', repair?.reason);
  await stateIsTrue(ctx, '1.0.0');
});

Outage('an outage shorter than apply.engineWait during the health wait is waited out: 1.1.0 is applied', async (ctx) => {
  // Back to the default wait (2m); 1.1.0 was not quarantined by the outage above, so this run tries it again.
  await setEngineWait(ctx, null);
  const running = duck(ctx, 'run', '--once');
  await healthAwaited(ctx, running);
  // Every connection closes as it opens: docker and docker-compose read EOF / a reset.
  await ctx.proxy.cut('reset');
  await sleep(SHORT_OUTAGE_MS);
  await ctx.proxy.restore();
  const r = await running;
  assert.is(r.code, 0, r.stderr);
  const state = await ctx.s.readState();
  const last = lastChange(state, ctx.s.app);
  assert.is(last?.outcome, 'applied', last?.reason);
  assert.match(r.stdout, /engine-wait|the Docker engine answers again/, 'the log tells of the outage');
  assert.is(state.failed[ctx.s.app], undefined, 'nothing quarantined');
  await stateIsTrue(ctx, '1.1.0');
  assert.ok(ctx.proxy.forwarded > 0, 'the agent went through the proxy');
});

Outage.run();
