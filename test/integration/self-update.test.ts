// Issue 15 points 4-6: `duck self-update` with real builds (the repository's bundle, its version
// bumped), served over loopback HTTP, the detached service manager, a real `duck run` against a
// signed test channel, its heartbeat read from the state. A good build is switched in and proves
// healthy; a sha256 mismatch, a build that cannot start and one that never completes a cycle are
// each refused or reverted with the old build running; an updater killed at each step is finished
// by `duck self-update --resume` with one working build and a true state.
import { readFile, readlink, readdir, symlink, writeFile, mkdir, cp } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';
import { detachedServiceManager } from '../../agent/src/adapters/service-detached.js';
import { instanceHolder } from '../../agent/src/adapters/instance-lock.js';
import type { AgentBuildFailure, AgentBuildState } from '../../agent/src/core/agent-build.js';
import type { UpdateJournal } from '../../agent/src/core/agent-update.js';
import type { ServiceManager } from '../../agent/src/ports.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeChannelYaml, writeGroup } from '../helpers/channel-fixtures.js';
import type { FileServer } from '../helpers/file-server.js';
import { startFileServer } from '../helpers/file-server.js';
import type { BuildFault } from '../helpers/agent-builds.js';
import { makeBuild, packBuild, releaseYaml } from '../helpers/agent-builds.js';

interface Ctx {
  host: ChannelHost;
  files: FileServer;
  work: string;
  node: AgentNode;
  builds: string;
  service: ServiceManager;
}

const SelfUpdate = suite<Ctx>('duck self-update: stage, self-test, switch, health, revert', {} as Ctx);

SelfUpdate.before(async (ctx) => {
  ctx.work = await makeTempDir('duck-self-update-');
  ctx.files = await startFileServer({ root: join(ctx.work, 'artifacts') });
  ctx.host = await startChannelHost('duck-self-update-channel-');
  const { ch, node } = await ctx.host.fresh({ interval: '2s' });
  // A group with no app: a cycle is a poll, a verified channel and a Docker ping, nothing to apply.
  await writeChannelYaml(ch, { version: 1, signers: [ctx.host.rootKey] });
  await writeGroup(ch, 'production', {});
  await ch.commit('an empty group', ctx.host.rootKey);
  await ch.publish();
  ctx.node = node;
  ctx.builds = join(ctx.work, 'builds');
  const config = parse(await readFile(node.configFile, 'utf8')) as Record<string, unknown>;
  config.selfUpdate = { serviceManager: 'detached', buildsDir: ctx.builds, healthTimeout: '20s' };
  await writeFile(node.configFile, stringify(config));
  // The installed build 0.1.0, as the Debian package lays it out, and its daemon.
  await mkdir(ctx.builds, { recursive: true });
  const installed = await makeBuild(join(ctx.work, 'made'), '0.1.0');
  await cp(installed, join(ctx.builds, '0.1.0'), { recursive: true });
  await symlink('0.1.0', join(ctx.builds, 'current'));
  ctx.service = detachedServiceManager({ stateDir: node.stateDir, launcher: join(ctx.builds, 'current', 'duck'), configFile: node.configFile, logFile: join(ctx.work, 'agent.log') });
  await ctx.service.startAgent();
  await healthyOn(ctx, '0.1.0', new Date(0));
});

SelfUpdate.after(async (ctx) => {
  await ctx.service?.stopAgent();
  await ctx.files?.close();
  await ctx.host?.close();
  if (ctx.work) await removeTempDir(ctx.work);
});

/** A build served by the file server, and its release file. */
async function publishBuild(ctx: Ctx, version: string, fault: BuildFault = null, opts: { wrongSha?: boolean } = {}): Promise<string> {
  const dir = await makeBuild(join(ctx.work, 'artifacts'), version, fault);
  const packed = await packBuild(dir);
  const sha256 = opts.wrongSha ? 'f'.repeat(64) : packed.sha256;
  const file = join(ctx.work, `agent-${version}.yaml`);
  await writeFile(file, releaseYaml(version, { url: ctx.files.url(`duck-${version}-linux-x64.tar.gz`), sha256, size: packed.size }));
  return file;
}

/** `duck self-update` run by the current build's launcher, as duck-update.service runs /usr/bin/duck. */
function selfUpdate(ctx: Ctx, args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(join(ctx.builds, 'current', 'duck'), ['self-update', ...args, '--config', ctx.node.configFile, '--json'], { allowFailure: true, env: { ...process.env, ...env } });
}

async function agentBuild(ctx: Ctx): Promise<AgentBuildState> {
  const state = JSON.parse(await readFile(join(ctx.node.stateDir, 'state.json'), 'utf8')) as { agentBuild: AgentBuildState };
  return state.agentBuild;
}

async function journal(ctx: Ctx): Promise<UpdateJournal> {
  return JSON.parse(await readFile(join(ctx.node.stateDir, 'self-update', 'journal.json'), 'utf8')) as UpdateJournal;
}

/** Reads until `read` gives a value (bounded by a count of reads, not a time), or fails saying `what`. */
async function eventually<T>(read: () => Promise<T | null | undefined>, what: string | (() => Promise<string>)): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await read().catch(() => null);
    if (value !== null && value !== undefined) return value;
    await sleep(100);
  }
  return assert.unreachable(typeof what === 'string' ? what : await what()) as never;
}

/** A heartbeat of `version` newer than `after` from a running daemon. */
async function healthyOn(ctx: Ctx, version: string, after: Date): Promise<void> {
  await eventually(
    async () => {
      const beat = (await agentBuild(ctx)).heartbeat;
      return beat && beat.version === version && Date.parse(beat.at) > after.getTime() && (await instanceHolder(ctx.node.stateDir)) !== null ? true : null;
    },
    async () => `no heartbeat of ${version} after ${after.toISOString()}; the agents' logs: ${await readFile(join(ctx.work, 'agent.log'), 'utf8').catch(() => '')}\n${await readFile(join(ctx.node.stateDir, 'self-update', 'agent.log'), 'utf8').catch(() => '')}`,
  );
}

/** The daemon that wrote the last heartbeat, of `version`, still holds the state directory. */
async function stillRunning(ctx: Ctx, version: string): Promise<void> {
  const beat = (await agentBuild(ctx)).heartbeat;
  assert.is(beat?.version, version);
  assert.is((await instanceHolder(ctx.node.stateDir))?.pid, beat?.pid, 'the same daemon runs');
}

/** The failure recorded for `version` (the daemon folds the updater's journal in at its next cycle). */
function failure(ctx: Ctx, version: string): Promise<AgentBuildFailure> {
  return eventually(async () => (await agentBuild(ctx)).failed[version], `no failure of ${version} recorded`);
}

/** The journal once its update ended. */
function ended(ctx: Ctx): Promise<UpdateJournal> {
  return eventually(async () => {
    const j = await journal(ctx);
    return j.outcome === 'running' ? null : j;
  }, 'the resumed update did not end');
}

async function current(ctx: Ctx): Promise<string> {
  return readlink(join(ctx.builds, 'current'));
}

SelfUpdate('a release file with a key agent.yaml does not have is refused, naming the file and the field', async (ctx) => {
  const good = releaseYaml('0.8.0', { url: ctx.files.url('duck-0.8.0-linux-x64.tar.gz'), sha256: 'a'.repeat(64), size: 1 });
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
  assert.is(await current(ctx), '0.1.0');
});

SelfUpdate('a sha256 mismatch is refused before anything is switched', async (ctx) => {
  const file = await publishBuild(ctx, '0.5.0', null, { wrongSha: true });
  const result = await selfUpdate(ctx, ['--yes', '--release-file', file]);
  assert.is(result.code, 1, result.stdout.toString() + result.stderr);
  const j = await journal(ctx);
  assert.is(j.outcome, 'failed');
  assert.is(j.failedStep, 'download');
  assert.match(j.reason, /sha256/);
  assert.is(await current(ctx), '0.1.0');
  assert.not.ok((await readdir(ctx.builds)).includes('0.5.0'), 'nothing staged');
  // The daemon holds the state: it records the failure at its next cycle.
  assert.is((await failure(ctx, '0.5.0')).step, 'download');
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
  assert.is(await current(ctx), '0.1.0');
  assert.is((await failure(ctx, '0.3.0')).step, 'self-test');
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
  assert.is(await current(ctx), '0.1.0');
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
  assert.is(await current(ctx), '0.1.0');
  await healthyOn(ctx, '0.1.0', new Date(j.endedAt!));
  assert.is((await agentBuild(ctx)).failed['0.7.0']?.step, 'health-wait');
});

SelfUpdate('a build that never completes a cycle is switched back within healthTimeout and recorded failed', async (ctx) => {
  const file = await publishBuild(ctx, '0.4.0', 'no-cycle');
  const result = await selfUpdate(ctx, ['--yes', '--release-file', file]);
  assert.is(result.code, 1, result.stdout.toString() + result.stderr);
  const j = await journal(ctx);
  assert.is(j.outcome, 'rolled-back');
  assert.is(j.failedStep, 'health-wait');
  assert.ok(j.switchedAt !== null);
  assert.is(await current(ctx), '0.1.0');
  await healthyOn(ctx, '0.1.0', new Date(j.endedAt!));
  const build = await agentBuild(ctx);
  assert.is(build.failed['0.4.0']?.step, 'health-wait');
  assert.match(build.failed['0.4.0']!.reason, /no healthy cycle/);
});

SelfUpdate('a good build is staged, self-tested, switched in and proves healthy', async (ctx) => {
  const file = await publishBuild(ctx, '0.2.0');
  const result = await selfUpdate(ctx, ['--yes', '--release-file', file]);
  assert.is(result.code, 0, result.stdout.toString() + result.stderr);
  const j = await journal(ctx);
  assert.is(j.outcome, 'applied');
  assert.is(await current(ctx), '0.2.0');
  await healthyOn(ctx, '0.2.0', new Date(j.switchedAt!));
  // The current build and the last good one are kept; the refused ones are gone.
  const kept = (await readdir(ctx.builds)).filter((n) => !n.startsWith('.')).sort();
  assert.equal(kept, ['0.1.0', '0.2.0', 'current']);
});

for (const step of ['download', 'stage', 'self-test', 'switch', 'restart', 'health-wait'] as const) {
  SelfUpdate(`an updater killed at ${step} is finished by the next one: one working build, a true state`, async (ctx) => {
    const from = await current(ctx);
    const to = `0.6.${['download', 'stage', 'self-test', 'switch', 'restart', 'health-wait'].indexOf(step)}`;
    const file = await publishBuild(ctx, to);
    const killed = await selfUpdate(ctx, ['--yes', '--release-file', file], { DUCK_FAULT_KILL_AT: `self-update:${step}` });
    assert.is(killed.code, 128, `killed by SIGKILL: ${killed.code} ${killed.stderr}`);
    assert.is((await journal(ctx)).step, step);
    // The next updater: ours, or the one a daemon started by the killed updater handed the update
    // to at its start (then ours finds it locked, and the journal ends all the same).
    const resumed = await selfUpdate(ctx, ['--resume']);
    if (resumed.code !== 0) assert.match(resumed.stderr, /self-update.*already works/, resumed.stderr);
    const j = await ended(ctx);
    assert.is(j.outcome, 'applied', j.reason);
    assert.is(j.attempts, 2);
    assert.is(await current(ctx), to);
    await healthyOn(ctx, to, new Date(j.switchedAt!));
    assert.not.ok(to in (await agentBuild(ctx)).failed);
    const kept = (await readdir(ctx.builds)).filter((n) => !n.startsWith('.')).sort();
    assert.equal(kept, [from, to, 'current'].sort());
  });
}

SelfUpdate.run();
