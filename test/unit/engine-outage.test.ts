// Issue 12 §6 without Docker: an engine that does not answer is told apart from one that refuses,
// waited out (bounded) in the health wait and in a rollback, never blamed on the release; a
// rollback it made fail leaves a repair that brings the recorded version back once it answers.
// The real-engine case (a socket proxy between the agent and dockerd) is test/e2e/engine-outage.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyChange } from '../../agent/src/apply/apply-change.js';
import { awaitHealthy } from '../../agent/src/apply/health.js';
import type { InstalledApp } from '../../agent/src/core/agent-state.js';
import { engineUnreachable, isEngineUnreachable, saysDockerClientUnreachable, saysEngineUnreachable } from '../../agent/src/core/engine-fault.js';
import { planRepair, planUpgrade } from '../../agent/src/core/plan.js';
import type { ComposeRuntime, ComposeTarget, ServiceStatus } from '../../agent/src/ports.js';
import { toDuckError } from '../../schemas/errors.js';
import { validateValue } from '../../schemas/index.js';
import { agentStatus } from '../../agent/src/report/status.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { agentState, installedApp } from '../helpers/agent-state.js';
import { memoryRelease, memoryStateStore, scriptedEngine, scriptedEnv } from '../helpers/scripted-engine.js';

const COMMIT = 'c'.repeat(40);
const PROJECT = 'duck-shop';

// --- what the CLIs print --------------------------------------------------------------------

const Classify = suite('engine unreachable, from what docker, docker compose and docker-compose print');

const UNREACHABLE: Record<string, string> = {
  'docker, socket missing': 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
  'docker, socket closed mid-call': 'error during connect: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.41/containers/json?all=1": EOF',
  'docker, connection reset': 'error during connect: Get "http://%2Ftmp%2Fp.sock/v1.41/version": read unix @->/tmp/p.sock: read: connection reset by peer',
  'compose v2': 'Cannot connect to the Docker daemon at unix:///tmp/p.sock. Is the docker daemon running?',
  'compose v1, refused': "docker.errors.DockerException: Error while fetching server API version: ('Connection aborted.', ConnectionRefusedError(111, 'Connection refused'))",
  'compose v1, closed': "requests.exceptions.ConnectionError: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))",
  'compose v1, legacy': "Couldn't connect to Docker daemon at http+docker://localhost - is it running?",
};
const ANSWERED: Record<string, string> = {
  'a registry that refuses': 'Error response from daemon: Get "https://registry.example/v2/": dial tcp 10.0.0.1:443: connect: connection refused',
  'a missing container': 'Error: No such container: 4f2a',
  'a taken port': 'Error response from daemon: driver failed programming external connectivity: Bind for 0.0.0.0:8080 failed: port is already allocated',
  'a bad compose file': "services.web.ports contains an invalid type, it should be a number, or an object",
};

for (const [name, output] of Object.entries(UNREACHABLE)) {
  Classify(`${name}: the engine did not answer`, () => {
    assert.ok(saysEngineUnreachable(output));
    const e = engineUnreachable('docker ps', output);
    assert.ok(isEngineUnreachable(e));
    assert.is(e.retry, 'transient');
  });
}
Classify('docker exec: a probed command\'s own "connection refused" is its answer; the client\'s words are an outage', () => {
  assert.not.ok(saysDockerClientUnreachable('curl: (7) Failed to connect to localhost port 80: Connection refused'));
  assert.ok(saysDockerClientUnreachable(UNREACHABLE['docker, socket missing']!));
  assert.ok(saysDockerClientUnreachable(UNREACHABLE['docker, socket closed mid-call']!));
});
for (const [name, output] of Object.entries(ANSWERED)) {
  Classify(`${name}: an answer of the engine, not an outage`, () => {
    assert.not.ok(saysEngineUnreachable(output));
  });
}
Classify.run();

// --- the health wait ------------------------------------------------------------------------

const Health = suite('the health wait through an outage');

/** A runtime whose `ps` fails as an unreachable engine does for its first `silent` calls, then shows one healthy container. */
function flakyRuntime(silent: number): ComposeRuntime {
  let calls = 0;
  const healthy: ServiceStatus = { service: 'web', container: 'duck-shop-web-1', containerId: 'c1', image: 'x', imageId: 'sha256:1', state: 'running', health: 'healthy', exitCode: 0, labels: {} };
  return {
    version: async () => ({ flavor: 'v1', version: '1.29.2', command: ['docker-compose'] }),
    up: async () => undefined,
    create: async () => undefined,
    start: async () => ({ by: 'engine', containers: 1, startMs: 0 }),
    stop: async () => undefined,
    down: async () => undefined,
    ps: async () => {
      if (++calls <= silent) throw engineUnreachable('docker ps', 'Cannot connect to the Docker daemon at unix:///tmp/p.sock. Is the docker daemon running?');
      return [healthy];
    },
  };
}

const exec = async () => ({ code: 0, output: '' });

Health('an outage shorter than apply.engineWait is waited out and does not count against the health timeout', async () => {
  // The health timeout (1 ms) is far shorter than the outage: only a wait that stops its clock passes.
  const { ms } = await awaitHealthy({ runtime: flakyRuntime(2), project: PROJECT, app: 'shop', probes: [], timeoutMs: 1, exec, pollMs: 10, engineWaitMs: 30_000 });
  assert.ok(ms >= 0);
});

Health('an outage past apply.engineWait ends the wait with the engine\'s error, never unhealthy', async () => {
  const err = await awaitHealthy({ runtime: flakyRuntime(Number.MAX_SAFE_INTEGER), project: PROJECT, app: 'shop', probes: [], timeoutMs: 60_000, exec, pollMs: 10, engineWaitMs: 1 }).then(
    () => null,
    (e: unknown) => toDuckError(e),
  );
  assert.ok(err, 'the wait fails');
  assert.ok(isEngineUnreachable(err), `${err!.code}: ${err!.message}`);
});
Health.run();

// --- a change through an outage -------------------------------------------------------------

const Change = suite<{ dir: string }>('an upgrade through a Docker outage (scripted engine)', { dir: '' });
Change.before(async (ctx) => {
  ctx.dir = await makeTempDir('duck-engine-outage-');
});
Change.after(async (ctx) => {
  await removeTempDir(ctx.dir);
});

const installed = (extra: Partial<InstalledApp> = {}): InstalledApp => installedApp('1.0.0', { commit: COMMIT, configHash: 'h0', ...extra });

function upgrade() {
  const release = memoryRelease('shop', '1.1.0').content.release;
  const desired = { app: 'shop', current: '1.0.0', desired: '1.1.0', source: 'group' as const, groupVersion: '1.1.0', pinned: false, decision: 'apply' as const, waitingFor: null, backoff: null, reason: 'inside window', until: null, trigger: 'channel' as const, release, bucket: null, percent: null };
  return planUpgrade(desired, release, installed(), COMMIT, 'h1');
}

/** A node running shop 1.0.0 whose engine stops answering as soon as 1.1.0 is started. */
function outageAtStart(dir: string, opts: { outageMs: number | null; engineWaitMs: number }) {
  const engine = scriptedEngine();
  Object.assign(engine.project(PROJECT), { containers: '1.0.0', running: true, data: 'precious', volumes: true });
  const state = memoryStateStore((s) => void (s.apps.shop = installed()));
  const env = scriptedEnv({ engine, state, appsDir: dir, engineWaitMs: opts.engineWaitMs });
  const { up, start } = engine.services().runtime;
  const services = env.services;
  const outageAfter = (target: ComposeTarget): void => {
    if (target.env?.DUCK_VERSION !== '1.1.0') return;
    engine.down = true;
    if (opts.outageMs !== null) setTimeout(() => (engine.down = false), opts.outageMs);
  };
  // Wrap the runtime so the outage begins right after 1.1.0 is started (the engine's start of what the create made, or compose's up).
  const runtime: ComposeRuntime = {
    ...services.runtime,
    up: async (project, target) => {
      await up(project, target);
      outageAfter(target);
    },
    start: async (project, target) => {
      const started = await start(project, target);
      outageAfter(target);
      return started;
    },
  };
  return { engine, state, env: { ...env, services: { ...services, runtime } } };
}

Change('an outage in the health wait and the rollback, shorter than apply.engineWait: rolled back, 1.1.0 not quarantined', async (ctx) => {
  const { engine, state, env } = outageAtStart(`${ctx.dir}/a`, { outageMs: 300, engineWaitMs: 30_000 });
  const result = await applyChange(env, upgrade());
  assert.is(result.outcome, 'rolled-back', result.reason);
  const s = state.read();
  assert.is(s.failed.shop, undefined, 'an engine outage is not the release\'s fault');
  assert.is(s.history.at(-1)!.failureCode, 'docker', 'the history keeps what kind of failure it was');
  assert.is(s.apps.shop!.version, '1.0.0');
  assert.is(engine.project(PROJECT).containers, '1.0.0', 'the recorded version is the one running');
  assert.ok(engine.project(PROJECT).running);
});

Change('an outage past apply.engineWait: rollback-failed, nothing quarantined, and a repair brings 1.0.0 back once the engine answers', async (ctx) => {
  const { engine, state, env } = outageAtStart(`${ctx.dir}/b`, { outageMs: null, engineWaitMs: 0 });
  const failed = await applyChange(env, upgrade());
  assert.is(failed.outcome, 'rollback-failed', failed.reason);
  let s = state.read();
  assert.is(s.failed.shop, undefined, 'an engine outage is not the release\'s fault');
  assert.is(s.history.at(-1)!.failureCode, 'docker');
  assert.is(s.apps.shop!.repair?.failedTo, '1.1.0', 'the doubt is recorded');
  assert.is(engine.project(PROJECT).containers, '1.1.0', 'the outage left 1.1.0 in place');

  engine.down = false;
  const repaired = await applyChange(env, planRepair('shop', s.apps.shop!, memoryRelease('shop', '1.0.0').content.release));
  assert.is(repaired.outcome, 'applied', repaired.reason);
  s = state.read();
  assert.is(s.apps.shop!.version, '1.0.0');
  assert.is(s.apps.shop!.repair, undefined, 'nothing left in doubt');
  assert.is(engine.project(PROJECT).containers, '1.0.0', 'the recorded version is the one running');
  assert.ok(engine.project(PROJECT).running);
  assert.ok(engine.project(PROJECT).data.startsWith('precious'), 'the data 1.1.0 ran on was put back');
});

Change('a repair finds the recorded version already running and healthy: no Docker mutation', async (ctx) => {
  const engine = scriptedEngine();
  Object.assign(engine.project(PROJECT), { containers: '1.0.0', running: true, data: 'precious', volumes: true });
  const repair = { since: '2026-11-30T11:00:00Z', failedTo: '1.1.0', backupId: null, reason: 'the engine did not answer' };
  const state = memoryStateStore((s) => void (s.apps.shop = installed({ repair })));
  const env = scriptedEnv({ engine, state, appsDir: `${ctx.dir}/c` });
  const result = await applyChange(env, planRepair('shop', installed({ repair }), memoryRelease('shop', '1.0.0').content.release));
  assert.is(result.outcome, 'applied', result.reason);
  assert.equal(engine.calls, [], 'nothing was stopped or started');
  assert.is(state.read().apps.shop!.repair, undefined);
});
Change.run();

const Told = suite('what status says while a repair is due');

Told('after a failed rollback the app is failed and its reason says which version may run instead, and that the agent repairs it', () => {
  const state = agentState({
    apps: { hello: installedApp('1.0.0', { repair: { since: '2026-11-30T10:00:00.000Z', failedTo: '1.1.0', backupId: null, reason: 'docker ps failed: the engine does not answer' } }) },
  });
  const status = agentStatus({ state, group: 'production', desired: null, stale: false });
  const app = status.apps.find((a) => a.app === 'hello');
  assert.is(app?.state, 'failed');
  assert.is(app?.current, '1.0.0');
  assert.match(app?.reason ?? '', '1.1.0 may still run instead of 1.0.0');
  assert.match(app?.reason ?? '', 'repairs it toward 1.0.0');
  validateValue('report', { agentId: 'node-1', sentAt: '2026-11-30T10:00:01Z', status, events: [] }, 'report');
  const repaired = agentStatus({ state: agentState({ apps: { hello: installedApp('1.0.0') } }), group: 'production', desired: null, stale: false });
  assert.is(repaired.apps[0]?.state, 'running');
  assert.not.match(repaired.apps[0]?.reason ?? '', 'may still run');
});

Told.run();
