// e2e lane: own compose project
// Issue 15's e2e: a self-update leaves the apps alone. A node runs the hello app at 1.0.0 on the
// real engine under the installed build 0.1.0 (the detached service manager, as on a machine
// without systemd). Through the channel the group then asks, in turn, a build whose sha256 does not
// match, one that exits at start, one that starts but never completes a cycle, and a good one: the
// first three are refused or reverted with 0.1.0 running and holding the state, the good one takes
// over and proves healthy, and after each the app's container is the very same one (same id, same
// start, no Docker event on the project) and still serves.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { instanceHolder } from '../../agent/src/adapters/instance-lock.js';
import type { UpdateJournal } from '../../agent/src/core/agent-update.js';
import { docker, projectContainers } from '../../examples/harness/compose-project.js';
import type { BuildFault } from '../helpers/agent-builds.js';
import { writeGroup } from '../helpers/channel-fixtures.js';
import { dockerEvents, mutations, requireDocker, uniqueProjectName } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { startHelloScenario } from '../helpers/hello-channel.js';
import type { SelfUpdateNode } from '../helpers/self-update-node.js';
import { setUpSelfUpdateNode } from '../helpers/self-update-node.js';

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
  /** The builds laid out as the package lays them out: <buildsDir>/<version>/ and `current`. */
  n: SelfUpdateNode;
  /** The app's container once 0.1.0 had installed it, and when that was. */
  container: Container;
  since: Date;
}

const Apps = suite<Ctx>('a self-update leaves the apps untouched (real engine, detached service manager)', {} as Ctx);

Apps.before(async (ctx) => {
  try {
    ctx.s = await startHelloScenario({ prefix: 'duck-e2e-self-update-', app: uniqueProjectName('hello'), releases: { '1.0.0': {} }, node: { interval: '2s' } });
    // The health wait is short for the build that never proves healthy (the revert waits it out).
    ctx.n = await setUpSelfUpdateNode(ctx.s.root, ctx.s.node, { healthTimeout: '15s' });
    await publishGroup(ctx, null);
    await ctx.n.service.startAgent();
    await ctx.n.eventually(async () => ((await ctx.s.readState()).apps[ctx.s.app]?.version === '1.0.0' ? true : null), '0.1.0 did not install hello 1.0.0');
    await ctx.n.eventually(async () => ((await ctx.s.served()) === '1.0.0' ? true : null), 'hello 1.0.0 does not serve');
    ctx.container = await theContainer(ctx);
    assert.ok(ctx.container.running, 'the app runs');
    ctx.since = new Date();
  } catch (err) {
    console.error('self-update-apps setup failed:', err);
    throw err;
  }
});

Apps.after(async (ctx) => {
  await ctx.n?.close();
  await ctx.s?.close();
});

// --- the channel --------------------------------------------------------------------------

/** The group: hello at 1.0.0 throughout, and the agent version asked (none: no `agent` key). */
async function publishGroup(ctx: Ctx, agent: string | null): Promise<void> {
  await writeGroup(ctx.s.ch, 'production', { [ctx.s.app]: '1.0.0' }, agent ? { agent: { version: agent } } : {});
  await ctx.s.ch.commit(agent ? `production runs agent ${agent}` : `${ctx.s.app} 1.0.0 in production`, ctx.s.key);
  await ctx.s.ch.publish();
}

/** A build served by the file server and its agents/<version>/agent.yaml committed. */
async function publishAgent(ctx: Ctx, version: string, fault: BuildFault, options: { wrongSha256?: boolean } = {}): Promise<void> {
  await ctx.s.ch.write(`agents/${version}/agent.yaml`, await ctx.n.offer(version, fault, options));
  await ctx.s.ch.commit(`agent ${version} published`, ctx.s.key);
}

/** Publishes `version` and asks the group for it; resolves with the self-update's ended journal. */
async function askAgent(ctx: Ctx, version: string, fault: BuildFault, options: { wrongSha256?: boolean } = {}): Promise<UpdateJournal> {
  await publishAgent(ctx, version, fault, options);
  await publishGroup(ctx, version);
  return ctx.n.ended(version);
}

// --- what is observed ---------------------------------------------------------------------

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
  assert.is(await ctx.n.current(), version);
  const tip = await ctx.s.ch.head();
  await ctx.n.eventually(async () => {
    const beat = (await ctx.n.agentBuild()).heartbeat;
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
  const failed = await ctx.n.eventually(async () => (await ctx.n.agentBuild()).failed[version], `no failure of ${version} recorded`);
  assert.is(failed.step, step);
  assert.match(failed.reason, reason);
}

// --- the cases, in turn ---------------------------------------------------------------------

Apps('a build whose sha256 does not match is refused at download: 0.1.0 runs on, the app untouched', async (ctx) => {
  const ended = await askAgent(ctx, '0.2.0', null, { wrongSha256: true });
  assert.is(ended.outcome, 'failed', ended.reason);
  await assertFailed(ctx, ended, '0.2.0', 'download', /sha256/);
  assert.not.ok(await readFile(join(ctx.n.builds, '0.2.0', 'duck')).catch(() => null), 'nothing of 0.2.0 is staged');
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
  const before = (await ctx.n.agentBuild()).heartbeat?.pid;
  const ended = await askAgent(ctx, '0.4.0', 'no-cycle');
  assert.is(ended.outcome, 'rolled-back', ended.reason);
  assert.ok(ended.switchedAt !== null, '0.4.0 was switched in before it was switched back');
  await assertFailed(ctx, ended, '0.4.0', 'health-wait', /no healthy cycle/);
  assert.is(ended.from, '0.1.0');
  await assertRuns(ctx, '0.1.0');
  assert.is.not((await ctx.n.agentBuild()).heartbeat?.pid, before, 'a new 0.1.0 daemon');
  await assertAppUntouched(ctx);
});

Apps('a good build is switched to and proves healthy: 0.5.0 holds the state, the app untouched', async (ctx) => {
  // Long for the good one: it ends at the first heartbeat; a loaded CI machine may be slow.
  await ctx.n.setHealthTimeout('60s');
  const ended = await askAgent(ctx, '0.5.0', null);
  assert.is(ended.outcome, 'applied', ended.reason);
  assert.is(ended.from, '0.1.0');
  assert.not.ok('0.5.0' in (await ctx.n.agentBuild()).failed);
  await assertRuns(ctx, '0.5.0');
  await assertAppUntouched(ctx);
  // The failures stay recorded with their steps: the group moved on, nothing tries them again.
  const failed = (await ctx.n.agentBuild()).failed;
  assert.equal(['0.2.0', '0.3.0', '0.4.0'].map((v) => failed[v]?.step), ['download', 'self-test', 'health-wait']);
});

Apps.run();
