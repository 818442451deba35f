// Issue 12 §10–11: `duck status` (text and --json) shows what the operator must see: a stale
// channel, a channel that cannot be fetched, an app stopped with duck stop, and a back-off.
import { readFile, writeFile } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import type { AgentState } from '../../agent/src/core/agent-state.js';
import { installedApp, readAgentState, writeAgentState } from '../helpers/agent-state.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeBasicChannel, writeChannelYaml, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';

interface Ctx {
  host: ChannelHost;
}

const Status = suite<Ctx>('duck status shows what the operator must see', {} as Ctx);

Status.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-status-');
});

Status.after(async (ctx) => {
  await ctx.host.close();
});

interface StatusApp {
  app: string;
  state?: string;
  decision: string;
  waitingFor?: string | null;
  until?: string | null;
  reason: string;
  groupVersion?: string | null;
  pinned?: boolean;
  backoff?: { cause: string; failures: number; nextTryAt: string } | null;
}

interface StatusJson {
  channel: { stale?: boolean; fetchFailure?: { reason: string; message: string; failures: number; since: string; nextTryAt: string } | null };
  apps: StatusApp[];
}

/** A node that accepted a channel asking shop `wanted`, its state then changed by `edit`. */
async function acceptedNode(ctx: Ctx, wanted: string, edit: (s: AgentState) => void, opts: { freshness?: string; age?: number } = {}): Promise<AgentNode> {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.host.rootKey], opts.freshness ? { freshness: opts.freshness } : {});
  await writeRelease(ch, 'shop', '1.1.0');
  await writeGroup(ch, 'production', { shop: wanted });
  await ch.commit('shop', ctx.host.rootKey, opts.age ? { date: new Date(Date.now() - opts.age) } : {});
  await ch.publish();
  const verified = await node.duck('verify', '--json');
  assert.is(verified.code, 0, verified.stderr);
  const state = await readAgentState(node.stateDir);
  edit(state);
  await writeAgentState(node.stateDir, state);
  return node;
}

async function status(node: AgentNode): Promise<{ json: StatusJson; text: string }> {
  const json = await node.duck('status', '--json');
  assert.is(json.code, 0, json.stderr);
  const text = await node.duck('status');
  assert.is(text.code, 0, text.stderr);
  return { json: json.json as unknown as StatusJson, text: text.stdout };
}

Status('a channel older than its freshness is shown stale, as verify and check say', async (ctx) => {
  const node = await acceptedNode(ctx, '1.0.0', (s) => void (s.apps.shop = installedApp('1.0.0')), { freshness: '1d', age: 3 * 86_400_000 });
  const { json, text } = await status(node);
  assert.is(json.channel.stale, true);
  assert.match(text, /^stale\s+the accepted commit is older than the channel's freshness \(1d\)/m);
  const fresh = await acceptedNode(ctx, '1.0.0', (s) => void (s.apps.shop = installedApp('1.0.0')), { freshness: '1d' });
  assert.is((await status(fresh)).json.channel.stale, false);
});

Status('an app stopped with duck stop is shown stopped, not running', async (ctx) => {
  const node = await acceptedNode(ctx, '1.0.0', (s) => void (s.apps.shop = installedApp('1.0.0', { stoppedByOperator: true })));
  const { json, text } = await status(node);
  const shop = json.apps.find((a) => a.app === 'shop')!;
  assert.is(shop.state, 'stopped');
  assert.not.match(shop.reason, /running/);
  assert.match(shop.reason, /duck start shop/);
  assert.match(text, /^APP\s+CURRENT\s+DESIRED\s+STATE\s+DECISION\s+REASON/m);
  assert.match(text, /^shop\s+1\.0\.0\s+1\.0\.0\s+stopped\s+none\s+/m);
});

Status('a back-off in force is shown with its cause, its count and the next try', async (ctx) => {
  const nextTryAt = new Date(Date.now() + 8 * 60_000).toISOString();
  const node = await acceptedNode(ctx, '1.1.0', (s) => {
    s.apps.shop = installedApp('1.0.0');
    s.backoff.shop = { cause: 'no-space', message: 'not enough free space for the backup', failures: 3, since: new Date(Date.now() - 7 * 60_000).toISOString(), at: new Date().toISOString(), nextTryAt, version: '1.1.0' };
  });
  const { json, text } = await status(node);
  const shop = json.apps.find((a) => a.app === 'shop')!;
  assert.is(shop.decision, 'wait');
  assert.is(shop.waitingFor, 'backoff');
  assert.is(shop.until, nextTryAt);
  assert.equal({ cause: shop.backoff?.cause, failures: shop.backoff?.failures, nextTryAt: shop.backoff?.nextTryAt }, { cause: 'no-space', failures: 3, nextTryAt });
  assert.is(shop.groupVersion, '1.1.0');
  assert.is(shop.pinned, false);
  assert.match(text, new RegExp(`^backoff\\s+shop 1\\.1\\.0: no-space, 3 failure\\(s\\) in a row .*next try at ${nextTryAt.replace(/\./g, '\\.')}`, 'm'));
});

Status('a channel that cannot be fetched is shown apart from a refusal, with the next try; a fetch that works clears it', async (ctx) => {
  // Nothing listens on port 9: every fetch fails at once.
  const DEAD = 'http://127.0.0.1:9/releases.git';
  const dead = await ctx.host.node(DEAD);
  const run = await dead.duck('run', '--once', '--log-format', 'json');
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /"event":"channel-unreachable"/);
  const { json, text } = await status(dead);
  const failure = json.channel.fetchFailure;
  assert.ok(failure, JSON.stringify(json.channel));
  assert.is(failure.reason, 'fetch');
  assert.is(failure.failures, 1);
  assert.ok(Date.parse(failure.nextTryAt) > Date.parse(failure.since), failure.nextTryAt);
  assert.match(text, /^unreachable since .* \(1 failed fetch\(es\), .*\): fetch: .*; next try at /m);
  assert.is((await readAgentState(dead.stateDir)).channel.lastRefusal, null, 'not a refusal');
  await dead.duck('run', '--once');
  assert.is((await status(dead)).json.channel.fetchFailure?.failures, 2, 'a run of failures is counted');

  // The same node, its channel back: the next fetch that works ends the run of failures.
  const { ch, url } = await ctx.host.channel();
  await writeChannelYaml(ch, { version: 1, signers: [ctx.host.rootKey] });
  await writeGroup(ch, 'production', {});
  await ch.commit('reachable', ctx.host.rootKey);
  await ch.publish();
  await writeFile(dead.configFile, (await readFile(dead.configFile, 'utf8')).replace(DEAD, url));
  const ok = await dead.duck('verify');
  assert.is(ok.code, 0, ok.stderr);
  assert.is((await status(dead)).json.channel.fetchFailure ?? null, null);
});

Status.run();
