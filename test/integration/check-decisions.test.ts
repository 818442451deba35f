// Issue "done when": `duck check --json` on a signed channel gives, for a node in each situation,
// the right decision and a reason naming the window, bucket, hold or pin behind it.
import { writeFile } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { agentState, installedApp, writeAgentState } from '../helpers/agent-state.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeChannelYaml, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';

interface Ctx {
  host: ChannelHost;
  url: string;
  closed: { day: string; start: string };
}

const Check = suite<Ctx>('duck check decisions', {} as Ctx);
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

Check.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-check-');
  const key = ctx.host.rootKey;
  // A one-hour window twelve hours from now is closed whenever the suite runs.
  const later = new Date(Date.now() + 12 * 3_600_000);
  ctx.closed = { day: DAYS[later.getUTCDay()]!, start: later.toISOString().slice(11, 16) };
  const { ch, url } = await ctx.host.channel('decisions');
  await writeChannelYaml(ch, { version: 1, signers: [key] });
  await writeRelease(ch, 'shop', '1.0.0');
  await writeRelease(ch, 'shop', '1.1.0');
  await writeGroup(ch, 'production', { shop: '1.1.0' });
  await writeGroup(ch, 'windowed', { shop: '1.1.0' }, { windows: [{ days: [ctx.closed.day], start: ctx.closed.start, duration: '1h', timezone: 'UTC' }] });
  await writeGroup(ch, 'staged', { shop: '1.1.0' }, { rollout: [{ percent: 0, at: '2026-01-01T00:00:00Z' }, { percent: 100, at: '2099-01-01T00:00:00Z' }] });
  await writeGroup(ch, 'urgent', { shop: '1.1.0' }, { urgent: true, windows: [{ days: [ctx.closed.day], start: ctx.closed.start, duration: '1h', timezone: 'UTC' }] });
  await ch.commit('channel with four groups', key);
  await ch.publish();
  ctx.url = url;
});

Check.after(async (ctx) => {
  await ctx.host.close();
});

async function nodeIn(ctx: Ctx, group: string, overlay = ''): Promise<AgentNode> {
  const node = await ctx.host.node(ctx.url, { group });
  await writeAgentState(node.stateDir, agentState({ apps: { shop: installedApp('1.0.0') } }));
  if (overlay) await writeFile(node.overlayFile, overlay);
  return node;
}

interface CheckApp {
  app: string;
  current: string | null;
  desired: string | null;
  decision: string;
  reason: string;
}

async function checkShop(node: AgentNode): Promise<CheckApp> {
  const r = await node.duck('check', '--json');
  assert.is(r.code, 0, r.stderr);
  return (r.json as { apps: CheckApp[] }).apps.find((a) => a.app === 'shop')!;
}

Check('no windows, no overlay: apply the group version now', async (ctx) => {
  const shop = await checkShop(await nodeIn(ctx, 'production'));
  assert.equal([shop.current, shop.desired, shop.decision], ['1.0.0', '1.1.0', 'apply']);
});

Check('outside the window: wait, naming the window', async (ctx) => {
  const shop = await checkShop(await nodeIn(ctx, 'windowed'));
  assert.is(shop.decision, 'wait');
  const day = ctx.closed.day[0]!.toUpperCase() + ctx.closed.day.slice(1);
  assert.match(shop.reason, `waiting for window ${day} ${ctx.closed.start} UTC`);
});

Check('outside the rollout: wait, naming the bucket and the percent', async (ctx) => {
  const shop = await checkShop(await nodeIn(ctx, 'staged'));
  assert.is(shop.decision, 'wait');
  assert.match(shop.reason, /in rollout bucket \d+\.\d, now at 0%/);
});

Check('held: wait, naming the hold, even for an urgent release', async (ctx) => {
  const shop = await checkShop(await nodeIn(ctx, 'urgent', 'hold: { reason: quarter-end freeze }\n'));
  assert.is(shop.decision, 'wait');
  assert.match(shop.reason, /^held: quarter-end freeze/);
});

Check('urgent outside the window: apply', async (ctx) => {
  const shop = await checkShop(await nodeIn(ctx, 'urgent'));
  assert.is(shop.decision, 'apply');
  assert.match(shop.reason, /urgent/);
});

Check('pinned: apply the pin, naming the overlay', async (ctx) => {
  const node = await nodeIn(ctx, 'windowed', '# keep 1.0.0 until the vendor fix\npin: { shop: 1.0.0 }\n');
  const shop = await checkShop(node);
  assert.equal([shop.desired, shop.decision], ['1.0.0', 'none']);
  assert.match(shop.reason, /pinned in .*overlay\.yaml/);
});

Check('pinned to a version the channel lacks: the node stays where it is, with the reason', async (ctx) => {
  const shop = await checkShop(await nodeIn(ctx, 'production', 'pin: { shop: 9.9.9 }\n'));
  assert.equal([shop.desired, shop.decision], ['1.0.0', 'wait']);
  assert.match(shop.reason, /pin shop 9\.9\.9 .* refused/);
});

Check('approval manual: wait for duck upgrade', async (ctx) => {
  const shop = await checkShop(await nodeIn(ctx, 'production', 'approval: manual\n'));
  assert.is(shop.decision, 'wait');
  assert.match(shop.reason, /duck upgrade/);
});

Check('a broken overlay is an error naming its line, and check changes nothing', async (ctx) => {
  const node = await nodeIn(ctx, 'production', 'pin:\n  shop: [1.0.0\n');
  const r = await node.duck('check', '--json');
  assert.is(r.code, 1, 'the operator\'s own file, not a refused channel');
  assert.is(r.json?.reason, 'config');
  assert.match(String((r.json as { message: string }).message), /overlay\.yaml:\d+:\d+/);
});

Check('duck status shows the same decisions from local state, without fetching', async (ctx) => {
  const node = await nodeIn(ctx, 'windowed');
  assert.is((await node.duck('verify')).code, 0);
  ctx.host.server.resetLog();
  const r = await node.duck('status', '--json');
  assert.is(r.code, 0, r.stderr);
  assert.is(ctx.host.server.requests.length, 0);
  const json = r.json as { apps: CheckApp[]; channel: { accepted: { commit: string } } };
  assert.match(json.apps[0]!.reason, /waiting for window/);
  assert.ok(json.channel.accepted.commit);
  const human = await node.duck('status');
  // duck status adds what runs (STATE) beside the decision.
  assert.match(human.stdout, /APP\s+CURRENT\s+DESIRED\s+STATE\s+DECISION\s+REASON/);
});

Check.run();
