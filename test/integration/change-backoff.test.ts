// Issue 12 §9 and §14 on a running `duck run`: an upgrade that fails before anything is stopped
// (here: the free-space reserve, apply.minFreeBytes, set higher than any disk) backs off instead
// of failing again at every poll; `duck status` shows the back-off and its next try; duck retry
// lifts it. And the log says so once, not at every poll.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import type { Daemon } from '../../examples/harness/daemon.js';
import { startDaemon } from '../../examples/harness/daemon.js';
import { installedApp, readAgentState, writeAgentState } from '../helpers/agent-state.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeBasicChannel, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';

interface Ctx {
  host: ChannelHost;
  daemon: Daemon | null;
}

const Backoff = suite<Ctx>('a failure that stopped nothing backs off', {} as Ctx);

Backoff.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-backoff-');
  ctx.daemon = null;
});

Backoff.after(async (ctx) => {
  await ctx.daemon?.stop(10_000);
  await ctx.host.close();
});

const POLLS = 5;

/** shop 1.0.0 installed (no containers: the change fails before it would stop anything), the channel asking 1.1.0. */
async function nodeWithoutRoom(ctx: Ctx): Promise<AgentNode> {
  const { ch, node } = await ctx.host.fresh({ interval: '2s', apply: { minFreeBytes: 2 ** 52 } });
  await writeBasicChannel(ch, [ctx.host.rootKey]);
  await writeRelease(ch, 'shop', '1.1.0');
  await writeGroup(ch, 'production', { shop: '1.1.0' });
  await ch.commit('shop 1.1.0', ctx.host.rootKey);
  await ch.publish();
  const verified = await node.duck('verify');
  assert.is(verified.code, 0, verified.stderr);
  const state = await readAgentState(node.stateDir);
  state.apps.shop = installedApp('1.0.0');
  await writeAgentState(node.stateDir, state);
  return node;
}

Backoff('an upgrade refused for no space fails once over several polls, and status shows the back-off and its next try', async (ctx) => {
  const node = await nodeWithoutRoom(ctx);
  const polls = () => ctx.host.server.requests.filter((r) => r.path.endsWith('/info/refs')).length;
  const before = polls();
  ctx.daemon = startDaemon(node);
  const daemon = ctx.daemon;
  await daemon.waitFor((e) => e.event === 'outcome' && e.outcome === 'failed', 'the first failure', { timeoutMs: 60_000 });
  // Bounded: several more polls at 2 s, each would have failed again without a back-off.
  const deadline = Date.now() + 90_000;
  while (polls() - before < POLLS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.ok(polls() - before >= POLLS, `${polls() - before} polls`);
  await daemon.stop(10_000);
  ctx.daemon = null;

  const failures = daemon.events.filter((e) => e.event === 'outcome' && e.app === 'shop');
  assert.is(failures.length, 1, `one failed attempt over ${polls() - before} polls: ${JSON.stringify(failures)}`);
  assert.match(String(failures[0]!.reason), /not enough free space/);
  const history = (await readAgentState(node.stateDir)).history.filter((h) => h.app === 'shop' && h.outcome === 'failed');
  assert.is(history.length, 1);
  assert.is(history[0]!.blame, 'infrastructure', 'a full disk is not the release\'s fault');

  // §14: the quiet polls after it log nothing new; the back-off's wait is logged once.
  const waits = daemon.events.filter((e) => e.event === 'wait' && e.app === 'shop');
  assert.equal(waits.map((w) => w.kind), ['backoff'], JSON.stringify(waits));
  const cycles = daemon.events.filter((e) => e.event === 'cycle');
  assert.ok(cycles.length <= 4, `${cycles.length} cycle lines over ${polls() - before} polls: ${JSON.stringify(cycles)}`);

  const status = await node.duck('status', '--json');
  assert.is(status.code, 0, status.stderr);
  const shop = (status.json!.apps as Array<Record<string, unknown>>).find((a) => a.app === 'shop')!;
  assert.is(shop.waitingFor, 'backoff');
  const backoff = shop.backoff as { cause: string; failures: number; nextTryAt: string };
  assert.is(backoff.cause, 'no-space');
  assert.is(backoff.failures, 1);
  assert.is(shop.until, backoff.nextTryAt);
  assert.ok(Date.parse(backoff.nextTryAt) > Date.now(), backoff.nextTryAt);
  const text = await node.duck('status');
  assert.match(text.stdout, /^backoff\s+shop 1\.1\.0: no-space, 1 failure\(s\) in a row .*next try at /m);
});

Backoff('duck retry lifts the back-off and tries at once; a new failure counts from one', async (ctx) => {
  const node = await nodeWithoutRoom(ctx);
  const first = await node.duck('run', '--once');
  assert.is(first.code, 0, first.stderr);
  assert.is((await readAgentState(node.stateDir)).backoff.shop?.failures, 1);
  const again = await node.duck('run', '--once');
  assert.is(again.code, 0, again.stderr);
  assert.is((await readAgentState(node.stateDir)).history.filter((h) => h.outcome === 'failed').length, 1, 'the back-off holds across runs');
  const retry = await node.duck('retry', 'shop');
  assert.match(retry.stdout + retry.stderr, /back-off lifted/);
  const state = await readAgentState(node.stateDir);
  assert.is(state.history.filter((h) => h.outcome === 'failed').length, 2, 'tried again at once');
  assert.is(state.backoff.shop?.failures, 1, 'the operator\'s retry starts the count again');
});

Backoff.run();
