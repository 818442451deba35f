// Issue 15 point 4 through the channel: the group's `agent: { version }` and
// `agents/<version>/agent.yaml` in a signed commit are what moves a node's own build. The daemon
// (build 0.1.0, run by the detached service manager as the package lays it out) decides the update
// in its cycle, starts the updater outside itself, and 0.2.0 takes over and proves healthy; `duck
// status` and `duck self-update --check` say what is asked and why. Real git over HTTP, real builds
// (the repository's bundle, version bumped), real processes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { instanceHolder } from '../../agent/src/adapters/instance-lock.js';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';
import type { Channel as TestChannel, ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeChannelYaml, writeGroup } from '../helpers/channel-fixtures.js';
import type { SelfUpdateNode } from '../helpers/self-update-node.js';
import { setUpSelfUpdateNode } from '../helpers/self-update-node.js';

interface Ctx {
  host: ChannelHost;
  ch: TestChannel;
  work: string;
  node: AgentNode;
  n: SelfUpdateNode;
}

const Channel = suite<Ctx>('self-update through the channel: the daemon moves its own build', {} as Ctx);

Channel.before(async (ctx) => {
  ctx.work = await makeTempDir('duck-self-update-channel-');
  ctx.host = await startChannelHost('duck-self-update-channel-git-');
  const { ch, node } = await ctx.host.fresh({ interval: '2s' });
  ctx.ch = ch;
  await writeChannelYaml(ch, { version: 1, signers: [ctx.host.rootKey] });
  await writeGroup(ch, 'production', {});
  await ch.commit('an empty group', ctx.host.rootKey);
  await ch.publish();
  ctx.node = node;
  ctx.n = await setUpSelfUpdateNode(ctx.work, node, { healthTimeout: '30s' });
  await ctx.n.service.startAgent();
  await ctx.n.eventually(async () => ((await ctx.n.agentBuild()).heartbeat?.version === '0.1.0' ? true : null), 'no heartbeat of 0.1.0');
});

Channel.after(async (ctx) => {
  await ctx.n?.close();
  await ctx.host?.close();
  if (ctx.work) await removeTempDir(ctx.work);
});

/** A build served by the file server and its agents/<version>/agent.yaml committed to the channel. */
async function publishAgent(ctx: Ctx, version: string): Promise<void> {
  await ctx.ch.write(`agents/${version}/agent.yaml`, await ctx.n.offer(version));
}

function duck(ctx: Ctx, args: string[]) {
  return run(join(ctx.n.builds, 'current', 'duck'), [...args, '--config', ctx.node.configFile, '--json'], { allowFailure: true });
}

Channel('an agent release that is published but not asked for changes nothing; --check says none', async (ctx) => {
  await publishAgent(ctx, '0.2.0');
  await ctx.ch.commit('agent 0.2.0 published', ctx.host.rootKey);
  await ctx.ch.publish();
  const tip = await ctx.ch.head();
  await ctx.n.eventually(async () => (JSON.parse(await readFile(join(ctx.node.stateDir, 'state.json'), 'utf8')).channel.anchor?.commit === tip ? true : null), 'the daemon did not accept the tip');
  const check = await duck(ctx, ['self-update', '--check']);
  const answer = JSON.parse(check.stdout.toString('utf8')) as { decision: string; reason: string; current: string };
  assert.is(check.code, 0, check.stderr);
  assert.equal([answer.current, answer.decision], ['0.1.0', 'none']);
  assert.match(answer.reason, 'no agent version in groups/production.yaml');
  assert.is(await ctx.n.current(), '0.1.0');
});

Channel("the group asks agent 0.2.0: the daemon starts the updater, 0.2.0 takes over and proves healthy; status says so", async (ctx) => {
  await writeGroup(ctx.ch, 'production', {}, { agent: { version: '0.2.0' } });
  await ctx.ch.commit('production runs agent 0.2.0', ctx.host.rootKey);
  await ctx.ch.publish();
  const ended = await ctx.n.ended('0.2.0');
  assert.is(ended.outcome, 'applied', ended.reason);
  assert.is(ended.from, '0.1.0');
  assert.is(await ctx.n.current(), '0.2.0');
  const beat = (await ctx.n.agentBuild()).heartbeat;
  assert.is(beat?.version, '0.2.0');
  assert.is((await instanceHolder(ctx.node.stateDir))?.pid, beat?.pid, 'the 0.2.0 daemon holds the state');
  const status = await duck(ctx, ['status']);
  const agent = (JSON.parse(status.stdout.toString('utf8')) as { agent: { current: string; desired: string; decision: string } }).agent;
  assert.equal([agent.current, agent.desired, agent.decision], ['0.2.0', '0.2.0', 'none'], status.stderr);
  // The daemon does not start another updater for the version it runs.
  await sleep(3000);
  assert.is((await ctx.n.journal())?.id, ended.id);
});

Channel.run();
