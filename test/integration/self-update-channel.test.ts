// Issue 15 point 4 through the channel: the group's `agent: { version }` and
// `agents/<version>/agent.yaml` in a signed commit are what moves a node's own build. The daemon
// (build 0.1.0, run by the detached service manager as the package lays it out) decides the update
// in its cycle, starts the updater outside itself, and 0.2.0 takes over and proves healthy; `duck
// status` and `duck self-update --check` say what is asked and why. Real git over HTTP, real builds
// (the repository's bundle, version bumped), real processes.
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
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';
import type { Channel as TestChannel, ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeChannelYaml, writeGroup } from '../helpers/channel-fixtures.js';
import type { FileServer } from '../helpers/file-server.js';
import { startFileServer } from '../helpers/file-server.js';
import { makeBuild, packBuild, releaseYaml } from '../helpers/agent-builds.js';

interface Ctx {
  host: ChannelHost;
  ch: TestChannel;
  files: FileServer;
  work: string;
  node: AgentNode;
  builds: string;
  service: ServiceManager;
}

const Channel = suite<Ctx>('self-update through the channel: the daemon moves its own build', {} as Ctx);

Channel.before(async (ctx) => {
  ctx.work = await makeTempDir('duck-self-update-channel-');
  ctx.files = await startFileServer({ root: join(ctx.work, 'artifacts') });
  ctx.host = await startChannelHost('duck-self-update-channel-git-');
  const { ch, node } = await ctx.host.fresh({ interval: '2s' });
  ctx.ch = ch;
  await writeChannelYaml(ch, { version: 1, signers: [ctx.host.rootKey] });
  await writeGroup(ch, 'production', {});
  await ch.commit('an empty group', ctx.host.rootKey);
  await ch.publish();
  ctx.node = node;
  ctx.builds = join(ctx.work, 'builds');
  const config = parse(await readFile(node.configFile, 'utf8')) as Record<string, unknown>;
  config.selfUpdate = { serviceManager: 'detached', buildsDir: ctx.builds, healthTimeout: '30s' };
  await writeFile(node.configFile, stringify(config));
  await mkdir(ctx.builds, { recursive: true });
  await cp(await makeBuild(join(ctx.work, 'made'), '0.1.0'), join(ctx.builds, '0.1.0'), { recursive: true });
  await symlink('0.1.0', join(ctx.builds, 'current'));
  ctx.service = detachedServiceManager({ stateDir: node.stateDir, launcher: join(ctx.builds, 'current', 'duck'), configFile: node.configFile, logFile: join(ctx.work, 'agent.log') });
  await ctx.service.startAgent();
  await eventually(async () => ((await agentBuild(ctx)).heartbeat?.version === '0.1.0' ? true : null), 'no heartbeat of 0.1.0');
});

Channel.after(async (ctx) => {
  await ctx.service?.stopAgent();
  await ctx.files?.close();
  await ctx.host?.close();
  if (ctx.work) await removeTempDir(ctx.work);
});

async function agentBuild(ctx: Ctx): Promise<AgentBuildState> {
  return (JSON.parse(await readFile(join(ctx.node.stateDir, 'state.json'), 'utf8')) as { agentBuild: AgentBuildState }).agentBuild;
}

async function journal(ctx: Ctx): Promise<UpdateJournal | null> {
  return (JSON.parse(await readFile(join(ctx.node.stateDir, 'self-update', 'journal.json'), 'utf8').catch(() => 'null')) as UpdateJournal | null);
}

/** Reads until `read` gives a value (bounded by a count of reads, not a time), or fails saying `what`. */
async function eventually<T>(read: () => Promise<T | null | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 900; i++) {
    const value = await read().catch(() => null);
    if (value !== null && value !== undefined) return value;
    await sleep(100);
  }
  const logs = `${await readFile(join(ctx0.work, 'agent.log'), 'utf8').catch(() => '')}\n${await readFile(join(ctx0.node.stateDir, 'self-update', 'agent.log'), 'utf8').catch(() => '')}`;
  return assert.unreachable(`${what}; the agents' logs:\n${logs.slice(-4000)}`) as never;
}
let ctx0: Ctx;
Channel.before.each((ctx) => void (ctx0 = ctx));

/** A build served by the file server and its agents/<version>/agent.yaml committed to the channel. */
async function publishAgent(ctx: Ctx, version: string): Promise<void> {
  const packed = await packBuild(await makeBuild(join(ctx.work, 'artifacts'), version));
  await ctx.ch.write(`agents/${version}/agent.yaml`, releaseYaml(version, { url: ctx.files.url(`duck-${version}-linux-x64.tar.gz`), sha256: packed.sha256, size: packed.size }));
}

function duck(ctx: Ctx, args: string[]) {
  return run(join(ctx.builds, 'current', 'duck'), [...args, '--config', ctx.node.configFile, '--json'], { allowFailure: true });
}

Channel('an agent release that is published but not asked for changes nothing; --check says none', async (ctx) => {
  await publishAgent(ctx, '0.2.0');
  await ctx.ch.commit('agent 0.2.0 published', ctx.host.rootKey);
  await ctx.ch.publish();
  const tip = await ctx.ch.head();
  await eventually(async () => (JSON.parse(await readFile(join(ctx.node.stateDir, 'state.json'), 'utf8')).channel.anchor?.commit === tip ? true : null), 'the daemon did not accept the tip');
  const check = await duck(ctx, ['self-update', '--check']);
  const answer = JSON.parse(check.stdout.toString('utf8')) as { decision: string; reason: string; current: string };
  assert.is(check.code, 0, check.stderr);
  assert.equal([answer.current, answer.decision], ['0.1.0', 'none']);
  assert.match(answer.reason, 'no agent version in groups/production.yaml');
  assert.is(await readlink(join(ctx.builds, 'current')), '0.1.0');
});

Channel("the group asks agent 0.2.0: the daemon starts the updater, 0.2.0 takes over and proves healthy; status says so", async (ctx) => {
  await writeGroup(ctx.ch, 'production', {}, { agent: { version: '0.2.0' } });
  await ctx.ch.commit('production runs agent 0.2.0', ctx.host.rootKey);
  await ctx.ch.publish();
  const ended = await eventually(async () => {
    const j = await journal(ctx);
    return j && j.to === '0.2.0' && j.outcome !== 'running' ? j : null;
  }, 'no self-update to 0.2.0 ended');
  assert.is(ended.outcome, 'applied', ended.reason);
  assert.is(ended.from, '0.1.0');
  assert.is(await readlink(join(ctx.builds, 'current')), '0.2.0');
  const beat = (await agentBuild(ctx)).heartbeat;
  assert.is(beat?.version, '0.2.0');
  assert.is((await instanceHolder(ctx.node.stateDir))?.pid, beat?.pid, 'the 0.2.0 daemon holds the state');
  const status = await duck(ctx, ['status']);
  const agent = (JSON.parse(status.stdout.toString('utf8')) as { agent: { current: string; desired: string; decision: string } }).agent;
  assert.equal([agent.current, agent.desired, agent.decision], ['0.2.0', '0.2.0', 'none'], status.stderr);
  // The daemon does not start another updater for the version it runs.
  await sleep(3000);
  assert.is((await journal(ctx))?.id, ended.id);
});

Channel.run();
