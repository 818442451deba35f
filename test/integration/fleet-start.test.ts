// Issue 12 §9b: a fleet that boots together does not stampede. Twenty `duck run` daemons start at
// once against one loopback git server and one controller; each node's first fetch and first
// report wait for its own offset in the interval, so they land spread over it instead of all in
// the moments after start.
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_START_SPREAD_MS, firstPollAt, pollOffsetMs, reportOffsetMs } from '../../agent/src/core/poll-schedule.js';
import type { Daemon } from '../../examples/harness/daemon.js';
import { startDaemon } from '../../examples/harness/daemon.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeChannelYaml, writeGroup } from '../helpers/channel-fixtures.js';
import type { TestController } from '../helpers/controller.js';
import { adminJson, startTestController } from '../helpers/controller.js';

const NODES = 20;
const INTERVAL_MS = 20_000;

interface Ctx {
  host: ChannelHost;
  ctl: TestController;
  daemons: Daemon[];
}

const Fleet = suite<Ctx>('a fleet that boots together', {} as Ctx);

Fleet.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-fleet-');
  ctx.ctl = await startTestController();
  ctx.daemons = [];
});

Fleet.after(async (ctx) => {
  await Promise.all(ctx.daemons.map((d) => d.stop(10_000)));
  await ctx.ctl?.stop();
  await ctx.host?.close();
});

/** Waits until `check` holds, polling; fails naming `what` past `ms`. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** How many delays fall in the second half of the interval: none would, if every node went at start. */
const late = (delays: readonly number[]): number => delays.filter((d) => d > INTERVAL_MS / 2).length;

Fleet('spreads the first fetches and the first reports of nodes started together over the interval', async (ctx) => {
  const { ch, name } = await ctx.host.channel('fleet');
  await writeChannelYaml(ch, { version: 1, signers: [ctx.host.rootKey] });
  // Nothing to run: the daemons need no Docker engine.
  await writeGroup(ch, 'production', {});
  await ch.commit('an empty group', ctx.host.rootKey);
  await ch.publish();

  const interval = `${INTERVAL_MS / 1000}s`;
  const controller = { url: ctx.ctl.url, enrollToken: ctx.ctl.enrollToken, interval };
  const repos: string[] = [];
  for (let i = 0; i < NODES; i++) {
    // One path per node to the same repository, so the server tells the nodes' requests apart.
    const repo = `fleet-${i}.git`;
    await symlink(join(ctx.host.root, `${name}.git`), join(ctx.host.root, repo));
    repos.push(repo);
    // startSpread left out: the agent's default (5m), capped by the interval.
    const node = await ctx.host.node(ctx.host.server.url(repo), { interval, startSpread: null, controller });
    ctx.daemons.push(startDaemon(node));
  }
  const starts = await Promise.all(ctx.daemons.map((d) => d.waitFor((e) => e.event === 'start', 'the daemon start', { timeoutMs: 120_000 })));
  const firstRef = (repo: string): number | undefined => ctx.host.server.requests.find((r) => r.path === `/${repo}/info/refs`)?.at;
  // Bounded: every node fetches and enrolls within its first interval (a loaded machine may take minutes to start twenty processes).
  await until(() => repos.every((r) => firstRef(r) !== undefined), 'every node to fetch', 4 * 60_000);
  type Agents = { agents: Array<{ agentId: string; enrolledAt: string }> };
  await until(async () => (await adminJson<Agents>(ctx.ctl, '/api/v1/agents')).agents.length === NODES, 'every node to report', 4 * 60_000);
  const enrolled = new Map((await adminJson<Agents>(ctx.ctl, '/api/v1/agents')).agents.map((a) => [a.agentId, Date.parse(a.enrolledAt)]));

  const startedAt = starts.map((e) => Date.parse(String(e.time)));
  // Each node's own turn, worked out here from its id as the agent must: a node may go late on a
  // busy machine, never early. Worked out from a little before its start line, which is written
  // just after the agent chose: a turn in between would otherwise count one interval late.
  const turn = (i: number, offset: (id: string, ms: number) => number): number =>
    firstPollAt(startedAt[i]! - 2_000, INTERVAL_MS, offset(String(starts[i]!.agentId), INTERVAL_MS), DEFAULT_START_SPREAD_MS);
  const early = (at: (i: number) => number, offset: (id: string, ms: number) => number): number[] =>
    starts.map((_, i) => i).filter((i) => at(i) < turn(i, offset) - 1_000);
  assert.equal(early((i) => firstRef(repos[i]!)!, pollOffsetMs), [], 'no node fetched before its turn');
  assert.equal(early((i) => enrolled.get(String(starts[i]!.agentId))!, reportOffsetMs), [], 'no node reported before its turn');
  const fetchDelays = repos.map((repo, i) => firstRef(repo)! - startedAt[i]!);
  const reportDelays = starts.map((e, i) => enrolled.get(String(e.agentId))! - startedAt[i]!);
  for (const [what, delays] of [['fetch', fetchDelays], ['report', reportDelays]] as const) {
    const sorted = [...delays].sort((a, b) => a - b).map((d) => Math.round(d / 100) / 10);
    // Spread evenly, about half the nodes go in the second half of the interval; at start, none.
    assert.ok(late(delays) >= NODES / 5, `${what}: ${late(delays)} of ${NODES} in the second half of the interval; delays (s): ${sorted.join(', ')}`);
    assert.ok(delays.filter((d) => d < 1_000).length <= NODES / 3, `${what}: most nodes went in the first second; delays (s): ${sorted.join(', ')}`);
  }
});

Fleet.run();
