// e2e lane: own compose project
// Issue 15's e2e: a self-update leaves the apps alone. A node runs the hello app at 1.0.0 on the
// real engine under the installed build 0.1.0 (the detached service manager, as on a machine
// without systemd). Through the channel the group then asks, in turn, a build whose sha256 does not
// match, one that exits at start, one that starts but never completes a cycle, and a good one: the
// first three are refused or reverted with 0.1.0 running and holding the state, the good one takes
// over and proves healthy, and after each the app's container is the very same one (same id, same
// start, no Docker event on the project) and still serves.
import { cp, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { detachedServiceManager } from '../../agent/src/adapters/service-detached.js';
import { instanceHolder } from '../../agent/src/adapters/instance-lock.js';
import type { AgentBuildState } from '../../agent/src/core/agent-build.js';
import type { UpdateJournal } from '../../agent/src/core/agent-update.js';
import type { ServiceManager } from '../../agent/src/ports.js';
import { docker, projectContainers } from '../../examples/harness/compose-project.js';
import type { BuildFault } from '../helpers/agent-builds.js';
import { makeBuild, packBuild, releaseYaml } from '../helpers/agent-builds.js';
import { sha256, writeGroup } from '../helpers/channel-fixtures.js';
import { dockerEvents, mutations, requireDocker, uniqueProjectName } from '../helpers/docker.js';
import type { FileServer } from '../helpers/file-server.js';
import { startFileServer } from '../helpers/file-server.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { startHelloScenario } from '../helpers/hello-channel.js';

await requireDocker();

/** The app's container as Docker knows it: a restart or a re-create changes one of these. */
interface Container {
  id: string;
  startedAt: string;
  restartCount: number;
  running: boolean;
}

interface Ctx {
  s: HelloScenario;
  files: FileServer;
  builds: string;
  logFile: string;
  service: ServiceManager;
  /** The app's container once 0.1.0 had installed it, and when that was. */
  container: Container;
  since: Date;
}

const Apps = suite<Ctx>('a self-update leaves the apps untouched (real engine, detached service manager)', {} as Ctx);

Apps.before(async (ctx) => {
  try {
    ctx.s = await startHelloScenario({ prefix: 'duck-e2e-self-update-', app: uniqueProjectName('hello'), releases: { '1.0.0': {} }, node: { interval: '2s' } });
    const { node } = ctx.s;
    ctx.files = await startFileServer({ root: join(ctx.s.root, 'artifacts') });
    // The builds laid out as the package lays them out: <buildsDir>/<version>/ and `current`.
    ctx.builds = join(ctx.s.root, 'builds');
    ctx.logFile = join(ctx.s.root, 'agent.log');
    await setHealthTimeout(ctx, '15s');
    await mkdir(ctx.builds, { recursive: true });
    await cp(await makeBuild(join(ctx.s.root, 'made'), '0.1.0'), join(ctx.builds, '0.1.0'), { recursive: true });
    await symlink('0.1.0', join(ctx.builds, 'current'));
    await publishGroup(ctx, null);
    ctx.service = detachedServiceManager({ stateDir: node.stateDir, launcher: join(ctx.builds, 'current', 'duck'), configFile: node.configFile, logFile: ctx.logFile });
    await ctx.service.startAgent();
    await eventually(ctx, async () => ((await ctx.s.readState()).apps[ctx.s.app]?.version === '1.0.0' ? true : null), '0.1.0 did not install hello 1.0.0');
    await eventually(ctx, async () => ((await ctx.s.served()) === '1.0.0' ? true : null), 'hello 1.0.0 does not serve');
    ctx.container = await theContainer(ctx);
    assert.ok(ctx.container.running, 'the app runs');
    ctx.since = new Date();
  } catch (err) {
    console.error('self-update-apps setup failed:', err);
    throw err;
  }
});

Apps.after(async (ctx) => {
  await ctx.service?.stopAgent();
  await ctx.files?.close();
  await ctx.s?.close();
});

/**
 * The node's selfUpdate section, with the health wait the next updater reads (each updater is a
 * new process reading agent.yaml): short for the build that never proves healthy (the revert waits
 * it out), long for the good one (it ends at the first heartbeat; a loaded CI machine may be slow).
 */
async function setHealthTimeout(ctx: Ctx, healthTimeout: string): Promise<void> {
  const config = parse(await readFile(ctx.s.node.configFile, 'utf8')) as Record<string, unknown>;
  config.selfUpdate = { serviceManager: 'detached', buildsDir: ctx.builds, healthTimeout };
  await writeFile(ctx.s.node.configFile, stringify(config));
}

// --- the channel --------------------------------------------------------------------------

/** The group: hello at 1.0.0 throughout, and the agent version asked (none: no `agent` key). */
async function publishGroup(ctx: Ctx, agent: string | null): Promise<void> {
  await writeGroup(ctx.s.ch, 'production', { [ctx.s.app]: '1.0.0' }, agent ? { agent: { version: agent } } : {});
  await ctx.s.ch.commit(agent ? `production runs agent ${agent}` : `${ctx.s.app} 1.0.0 in production`, ctx.s.key);
  await ctx.s.ch.publish();
}

/**
 * A build served by the file server and its agents/<version>/agent.yaml committed. With
 * `wrongSha256`, the release names the sha256 of other bytes (the size is the tarball's own).
 */
async function publishAgent(ctx: Ctx, version: string, fault: BuildFault, options: { wrongSha256?: boolean } = {}): Promise<void> {
  const packed = await packBuild(await makeBuild(join(ctx.s.root, 'artifacts'), version, fault));
  const digest = options.wrongSha256 ? sha256(`not the build ${version}`) : packed.sha256;
  await ctx.s.ch.write(`agents/${version}/agent.yaml`, releaseYaml(version, { url: ctx.files.url(`duck-${version}-linux-x64.tar.gz`), sha256: digest, size: packed.size }));
  await ctx.s.ch.commit(`agent ${version} published`, ctx.s.key);
}

/** Publishes `version` and asks the group for it; resolves with the self-update's ended journal. */
async function askAgent(ctx: Ctx, version: string, fault: BuildFault, options: { wrongSha256?: boolean } = {}): Promise<UpdateJournal> {
  await publishAgent(ctx, version, fault, options);
  await publishGroup(ctx, version);
  return eventually(ctx, async () => {
    const j = await journal(ctx);
    return j && j.to === version && j.outcome !== 'running' ? j : null;
  }, `no self-update to ${version} ended`);
}

// --- what is observed ---------------------------------------------------------------------

async function agentBuild(ctx: Ctx): Promise<AgentBuildState> {
  return (JSON.parse(await readFile(join(ctx.s.node.stateDir, 'state.json'), 'utf8')) as { agentBuild: AgentBuildState }).agentBuild;
}

async function journal(ctx: Ctx): Promise<UpdateJournal | null> {
  return JSON.parse(await readFile(join(ctx.s.node.stateDir, 'self-update', 'journal.json'), 'utf8').catch(() => 'null')) as UpdateJournal | null;
}

async function theContainer(ctx: Ctx): Promise<Container> {
  const ids = await projectContainers(ctx.s.project);
  assert.is(ids.length, 1, `one container in ${ctx.s.project}: ${ids.join(', ')}`);
  const [id, startedAt, restartCount, running] = (await docker(['inspect', '--format', '{{.Id}} {{.State.StartedAt}} {{.RestartCount}} {{.State.Running}}', ids[0]!])).trim().split(' ');
  return { id: id!, startedAt: startedAt!, restartCount: Number(restartCount), running: running === 'true' };
}

/**
 * `version` runs: `current` names it, and its daemon holds the state and has completed a cycle on
 * the channel's tip (a heartbeat is written once per process and accepted commit: a daemon that
 * refused an update writes none again; one started anew writes its own).
 */
async function assertRuns(ctx: Ctx, version: string): Promise<void> {
  assert.is(await readlink(join(ctx.builds, 'current')), version);
  const tip = await ctx.s.ch.head();
  await eventually(ctx, async () => {
    const beat = (await agentBuild(ctx)).heartbeat;
    const holder = await instanceHolder(ctx.s.node.stateDir);
    return beat && beat.version === version && beat.channelCommit === tip && holder?.pid === beat.pid ? beat : null;
  }, `no daemon of ${version} holding the state with a cycle on ${tip}`);
}

/** The app is where 0.1.0 left it: the same container, never stopped or re-created, serving 1.0.0. */
async function assertAppUntouched(ctx: Ctx): Promise<void> {
  assert.equal(await theContainer(ctx), ctx.container, 'the same container, started once');
  assert.equal(mutations(await dockerEvents({ project: ctx.s.project, since: ctx.since })).map((e) => `${e.action} ${e.name}`), [], 'no Docker change to the project');
  assert.is(await ctx.s.served(), '1.0.0');
  const app = (await ctx.s.readState()).apps[ctx.s.app];
  assert.is(app?.version, '1.0.0');
}

/** The failure recorded for `version`: at `step`, saying `reason`. */
async function assertFailed(ctx: Ctx, ended: UpdateJournal, version: string, step: string, reason: RegExp): Promise<void> {
  assert.is(ended.failedStep, step, ended.reason);
  const failed = await eventually(ctx, async () => (await agentBuild(ctx)).failed[version], `no failure of ${version} recorded`);
  assert.is(failed.step, step);
  assert.match(failed.reason, reason);
}

/** Reads until `read` gives a value (bounded by a count of reads, not a time), or fails saying `what`. */
async function eventually<T>(ctx: Ctx, read: () => Promise<T | null | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 900; i++) {
    const value = await read().catch(() => null);
    if (value !== null && value !== undefined) return value;
    await sleep(100);
  }
  const logs = `${await readFile(ctx.logFile, 'utf8').catch(() => '')}\n${await readFile(join(ctx.s.node.stateDir, 'self-update', 'agent.log'), 'utf8').catch(() => '')}`;
  return assert.unreachable(`${what}; the agents' logs:\n${logs.slice(-4000)}`) as never;
}

// --- the cases, in turn ---------------------------------------------------------------------

Apps('a build whose sha256 does not match is refused at download: 0.1.0 runs on, the app untouched', async (ctx) => {
  const ended = await askAgent(ctx, '0.2.0', null, { wrongSha256: true });
  assert.is(ended.outcome, 'failed', ended.reason);
  await assertFailed(ctx, ended, '0.2.0', 'download', /sha256/);
  assert.not.ok(await readFile(join(ctx.builds, '0.2.0', 'duck')).catch(() => null), 'nothing of 0.2.0 is staged');
  await assertRuns(ctx, '0.1.0');
  await assertAppUntouched(ctx);
});

Apps('a build that exits at start is refused by its self-test: 0.1.0 runs on, the app untouched', async (ctx) => {
  const ended = await askAgent(ctx, '0.3.0', 'exits-at-start');
  assert.is(ended.outcome, 'failed', ended.reason);
  await assertFailed(ctx, ended, '0.3.0', 'self-test', /self-test of 0\.3\.0: exit 1/);
  await assertRuns(ctx, '0.1.0');
  await assertAppUntouched(ctx);
});

Apps('a build that never completes a cycle is reverted after healthTimeout: 0.1.0 back, the app untouched', async (ctx) => {
  const before = (await agentBuild(ctx)).heartbeat?.pid;
  const ended = await askAgent(ctx, '0.4.0', 'no-cycle');
  assert.is(ended.outcome, 'rolled-back', ended.reason);
  assert.ok(ended.switchedAt !== null, '0.4.0 was switched in before it was switched back');
  await assertFailed(ctx, ended, '0.4.0', 'health-wait', /no healthy cycle/);
  assert.is(ended.from, '0.1.0');
  await assertRuns(ctx, '0.1.0');
  assert.is.not((await agentBuild(ctx)).heartbeat?.pid, before, 'a new 0.1.0 daemon');
  await assertAppUntouched(ctx);
});

Apps('a good build is switched to and proves healthy: 0.5.0 holds the state, the app untouched', async (ctx) => {
  await setHealthTimeout(ctx, '60s');
  const ended = await askAgent(ctx, '0.5.0', null);
  assert.is(ended.outcome, 'applied', ended.reason);
  assert.is(ended.from, '0.1.0');
  assert.not.ok('0.5.0' in (await agentBuild(ctx)).failed);
  await assertRuns(ctx, '0.5.0');
  await assertAppUntouched(ctx);
  // The failures stay recorded with their steps: the group moved on, nothing tries them again.
  const failed = (await agentBuild(ctx)).failed;
  assert.equal(['0.2.0', '0.3.0', '0.4.0'].map((v) => failed[v]?.step), ['download', 'self-test', 'health-wait']);
});

Apps.run();
