// Issue 15 points 4-6: `duck self-update` with real builds (the repository's bundle, its version
// bumped), served over loopback HTTP, the detached service manager, a real `duck run` against a
// signed test channel, its heartbeat read from the state. A good build is switched in and proves
// healthy; a sha256 mismatch, a build that cannot start and one that never completes a cycle are
// each refused or reverted with the old build running; an updater killed at each step is finished
// by `duck self-update --resume` with one working build and a true state.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';
import { instanceHolder } from '../../agent/src/adapters/instance-lock.js';
import type { UpdateJournal } from '../../agent/src/core/agent-update.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeChannelYaml, writeGroup } from '../helpers/channel-fixtures.js';
import type { BuildFault } from '../helpers/agent-builds.js';
import { releaseYaml } from '../helpers/agent-builds.js';
import type { SelfUpdateNode } from '../helpers/self-update-node.js';
import { setUpSelfUpdateNode } from '../helpers/self-update-node.js';

interface Ctx {
  host: ChannelHost;
  work: string;
  node: AgentNode;
  /** The installed build 0.1.0, as the Debian package lays it out, and its daemon. */
  n: SelfUpdateNode;
}

const SelfUpdate = suite<Ctx>('duck self-update: stage, self-test, switch, health, revert', {} as Ctx);

SelfUpdate.before(async (ctx) => {
  ctx.work = await makeTempDir('duck-self-update-');
  ctx.host = await startChannelHost('duck-self-update-channel-');
  const { ch, node } = await ctx.host.fresh({ interval: '2s' });
  // A group with no app: a cycle is a poll, a verified channel and a Docker ping, nothing to apply.
  await writeChannelYaml(ch, { version: 1, signers: [ctx.host.rootKey] });
  await writeGroup(ch, 'production', {});
  await ch.commit('an empty group', ctx.host.rootKey);
  await ch.publish();
  ctx.node = node;
  ctx.n = await setUpSelfUpdateNode(ctx.work, node, { healthTimeout: '20s' });
  await ctx.n.service.startAgent();
  await healthyOn(ctx, '0.1.0', new Date(0));
});

SelfUpdate.after(async (ctx) => {
  await ctx.n?.close();
  await ctx.host?.close();
  if (ctx.work) await removeTempDir(ctx.work);
});

/** A build served by the file server, and its release file. */
async function publishBuild(ctx: Ctx, version: string, fault: BuildFault = null, opts: { wrongSha256?: boolean } = {}): Promise<string> {
  const file = join(ctx.work, `agent-${version}.yaml`);
  await writeFile(file, await ctx.n.offer(version, fault, opts));
  return file;
}

/** `duck self-update` run by the current build's launcher, as duck-update.service runs /usr/bin/duck. */
function selfUpdate(ctx: Ctx, args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(join(ctx.n.builds, 'current', 'duck'), ['self-update', ...args, '--config', ctx.node.configFile, '--json'], { allowFailure: true, env: { ...process.env, ...env } });
}

/** The journal an update left (every case here runs one before it reads). */
async function journal(ctx: Ctx): Promise<UpdateJournal> {
  const j = await ctx.n.journal();
  assert.ok(j, 'the updater wrote its journal');
  return j;
}

/** A heartbeat of `version` newer than `after` from a running daemon. */
async function healthyOn(ctx: Ctx, version: string, after: Date): Promise<void> {
  await ctx.n.eventually(async () => {
    const beat = (await ctx.n.agentBuild()).heartbeat;
    return beat && beat.version === version && Date.parse(beat.at) > after.getTime() && (await instanceHolder(ctx.node.stateDir)) !== null ? true : null;
  }, `no heartbeat of ${version} after ${after.toISOString()}`);
}

/** The daemon that wrote the last heartbeat, of `version`, still holds the state directory. */
async function stillRunning(ctx: Ctx, version: string): Promise<void> {
  const beat = (await ctx.n.agentBuild()).heartbeat;
  assert.is(beat?.version, version);
  assert.is((await instanceHolder(ctx.node.stateDir))?.pid, beat?.pid, 'the same daemon runs');
}

SelfUpdate('a release file with a key agent.yaml does not have is refused, naming the file and the field', async (ctx) => {
  const good = releaseYaml('0.8.0', { url: ctx.n.files.url('duck-0.8.0-linux-x64.tar.gz'), sha256: 'a'.repeat(64), size: 1 });
  for (const [extra, field] of [
    [good.replace('artifacts:', 'channel: beta\nartifacts:'), 'unknown key "channel"'],
    [good.replace(/size: (\d+)/, 'size: $1, md5: abc'), `/artifacts/linux-${process.arch}: unknown key "md5"`],
  ] as const) {
    const file = join(ctx.work, 'agent-0.8.0-extra.yaml');
    await writeFile(file, extra);
    const result = await selfUpdate(ctx, ['--check', '--release-file', file]);
    assert.is(result.code, 3, result.stdout.toString() + result.stderr);
    assert.ok(result.stderr.includes(`${file}:`) && result.stderr.includes(field), result.stderr);
  }
  assert.is(await ctx.n.current(), '0.1.0');
});

SelfUpdate('a sha256 mismatch is refused before anything is switched', async (ctx) => {
  const file = await publishBuild(ctx, '0.5.0', null, { wrongSha256: true });
  const result = await selfUpdate(ctx, ['--yes', '--release-file', file]);
  assert.is(result.code, 1, result.stdout.toString() + result.stderr);
  const j = await journal(ctx);
  assert.is(j.outcome, 'failed');
  assert.is(j.failedStep, 'download');
  assert.match(j.reason, /sha256/);
  assert.is(await ctx.n.current(), '0.1.0');
  assert.not.ok((await readdir(ctx.n.builds)).includes('0.5.0'), 'nothing staged');
  // The daemon holds the state: it records the failure at its next cycle.
  assert.is((await ctx.n.failure('0.5.0')).step, 'download');
  await stillRunning(ctx, '0.1.0');
});

SelfUpdate('a build that cannot start fails its self-test and is never switched in', async (ctx) => {
  const file = await publishBuild(ctx, '0.3.0', 'exits-at-start');
  const result = await selfUpdate(ctx, ['--yes', '--release-file', file]);
  assert.is(result.code, 1, result.stdout.toString() + result.stderr);
  const j = await journal(ctx);
  assert.is(j.outcome, 'failed');
  assert.is(j.failedStep, 'self-test');
  assert.match(j.reason, /cannot start/);
  assert.is(await ctx.n.current(), '0.1.0');
  assert.is((await ctx.n.failure('0.3.0')).step, 'self-test');
  await stillRunning(ctx, '0.1.0');
  // Failed here with the same release: shown by --check, refused until --retry.
  const check = await selfUpdate(ctx, ['--check', '--release-file', file]);
  assert.is(check.code, 0, check.stderr);
  const shown = JSON.parse(check.stdout.toString()) as { current: string; target: string; failed: { step: string } | null };
  assert.equal([shown.current, shown.target, shown.failed?.step], ['0.1.0', '0.3.0', 'self-test']);
  const again = await selfUpdate(ctx, ['--yes', '--release-file', file]);
  assert.is(again.code, 2, again.stderr);
  assert.match(again.stderr, /--retry/);
  const retried = await selfUpdate(ctx, ['--yes', '--retry', '--release-file', file]);
  assert.is(retried.code, 1, retried.stderr);
  assert.is((await journal(ctx)).failedStep, 'self-test', 'tried again, and refused again');
  assert.is(await ctx.n.current(), '0.1.0');
});

SelfUpdate('an updater killed while switching back is finished by the next: the old build runs', async (ctx) => {
  const file = await publishBuild(ctx, '0.7.0', 'no-cycle');
  const killed = await selfUpdate(ctx, ['--yes', '--release-file', file], { DUCK_FAULT_KILL_AT: 'self-update:revert' });
  assert.is(killed.code, 128, `killed by SIGKILL: ${killed.code} ${killed.stderr}`);
  assert.is((await journal(ctx)).step, 'revert');
  const resumed = await selfUpdate(ctx, ['--resume']);
  assert.is(resumed.code, 1, resumed.stdout.toString() + resumed.stderr);
  const j = await journal(ctx);
  assert.is(j.outcome, 'rolled-back');
  assert.is(j.failedStep, 'health-wait');
  assert.is(await ctx.n.current(), '0.1.0');
  await healthyOn(ctx, '0.1.0', new Date(j.endedAt!));
  assert.is((await ctx.n.agentBuild()).failed['0.7.0']?.step, 'health-wait');
});

SelfUpdate('a build that never completes a cycle is switched back within healthTimeout and recorded failed', async (ctx) => {
  const file = await publishBuild(ctx, '0.4.0', 'no-cycle');
  const result = await selfUpdate(ctx, ['--yes', '--release-file', file]);
  assert.is(result.code, 1, result.stdout.toString() + result.stderr);
  const j = await journal(ctx);
  assert.is(j.outcome, 'rolled-back');
  assert.is(j.failedStep, 'health-wait');
  assert.ok(j.switchedAt !== null);
  assert.is(await ctx.n.current(), '0.1.0');
  await healthyOn(ctx, '0.1.0', new Date(j.endedAt!));
  const build = await ctx.n.agentBuild();
  assert.is(build.failed['0.4.0']?.step, 'health-wait');
  assert.match(build.failed['0.4.0']!.reason, /no healthy cycle/);
});

SelfUpdate('a good build is staged, self-tested, switched in and proves healthy', async (ctx) => {
  const file = await publishBuild(ctx, '0.2.0');
  const result = await selfUpdate(ctx, ['--yes', '--release-file', file]);
  assert.is(result.code, 0, result.stdout.toString() + result.stderr);
  const j = await journal(ctx);
  assert.is(j.outcome, 'applied');
  assert.is(await ctx.n.current(), '0.2.0');
  await healthyOn(ctx, '0.2.0', new Date(j.switchedAt!));
  // The current build and the last good one are kept; the refused ones are gone.
  const kept = (await readdir(ctx.n.builds)).filter((n) => !n.startsWith('.')).sort();
  assert.equal(kept, ['0.1.0', '0.2.0', 'current']);
});

for (const step of ['download', 'stage', 'self-test', 'switch', 'restart', 'health-wait'] as const) {
  SelfUpdate(`an updater killed at ${step} is finished by the next one: one working build, a true state`, async (ctx) => {
    const from = await ctx.n.current();
    const to = `0.6.${['download', 'stage', 'self-test', 'switch', 'restart', 'health-wait'].indexOf(step)}`;
    const file = await publishBuild(ctx, to);
    const killed = await selfUpdate(ctx, ['--yes', '--release-file', file], { DUCK_FAULT_KILL_AT: `self-update:${step}` });
    assert.is(killed.code, 128, `killed by SIGKILL: ${killed.code} ${killed.stderr}`);
    assert.is((await journal(ctx)).step, step);
    // The next updater: ours, or the one a daemon started by the killed updater handed the update
    // to at its start (then ours finds it locked, and the journal ends all the same).
    const resumed = await selfUpdate(ctx, ['--resume']);
    if (resumed.code !== 0) assert.match(resumed.stderr, /self-update.*already works/, resumed.stderr);
    const j = await ctx.n.ended(to);
    assert.is(j.outcome, 'applied', j.reason);
    assert.is(j.attempts, 2);
    assert.is(await ctx.n.current(), to);
    await healthyOn(ctx, to, new Date(j.switchedAt!));
    assert.not.ok(to in (await ctx.n.agentBuild()).failed);
    const kept = (await readdir(ctx.n.builds)).filter((n) => !n.startsWith('.')).sort();
    assert.equal(kept, [from, to, 'current'].sort());
  });
}

SelfUpdate.run();
