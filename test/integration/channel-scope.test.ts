// Promotion-only keys (DESIGN §3, channel.yaml `scope: promote`) through the real `duck verify`
// CLI against a real git smart-HTTP server, with commits signed at test time by openpgp.js.
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import type { OpenpgpTestKey } from '../../examples/harness/keys.js';
import { makeOpenpgpKey } from '../../examples/harness/keys.js';
import { readAgentState } from '../helpers/agent-state.js';
import type { Channel, ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeGroup, writeRelease } from '../helpers/channel-fixtures.js';
import { duckCli, writeKeyFile } from '../helpers/release-cli.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';

interface Ctx {
  host: ChannelHost;
  publisher: OpenpgpTestKey;
  promoter: OpenpgpTestKey;
}

const Scope = suite<Ctx>('channel signer scope', {} as Ctx);

Scope.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-scope-');
  ctx.publisher = await makeOpenpgpKey('publisher');
  ctx.promoter = await makeOpenpgpKey('promote-bot');
});

Scope.after(async (ctx) => {
  await ctx.host.close();
});

const WINDOWS = [{ days: ['sat'], start: '02:00', duration: '3h', timezone: 'UTC' }];

async function writePolicy(ch: Channel, ctx: Ctx, opts: { version?: number; floor?: Record<string, string>; promoterScope?: string } = {}): Promise<void> {
  for (const key of [ctx.publisher, ctx.promoter]) await ch.write(`keys/${key.name}.asc`, key.armoredPublicKey);
  const doc: Record<string, unknown> = {
    version: opts.version ?? 1,
    signers: [
      { name: ctx.publisher.name, key: `keys/${ctx.publisher.name}.asc` },
      { name: ctx.promoter.name, key: `keys/${ctx.promoter.name}.asc`, scope: opts.promoterScope ?? 'promote' },
    ],
  };
  if (opts.floor) doc.promotion = { floor: opts.floor };
  await ch.write('channel.yaml', stringify(doc));
}

/**
 * A channel the root key vouched for: the publisher (full scope) and the promote bot as signers,
 * shop 1.0.0, 1.1.0 and 1.2.0 published, production on 1.1.0 in Saturday windows. A node accepted it.
 */
async function scopedChannel(ctx: Ctx, opts: { floor?: Record<string, string> } = {}): Promise<{ ch: Channel; node: AgentNode; anchor: string }> {
  const { ch, node } = await ctx.host.fresh();
  await writePolicy(ch, ctx, opts);
  for (const version of ['1.0.0', '1.1.0', '1.2.0']) await writeRelease(ch, 'shop', version);
  await writeGroup(ch, 'production', { shop: '1.1.0' }, { windows: WINDOWS });
  await writeGroup(ch, 'staging', { shop: '1.2.0' });
  const anchor = await ch.commit('shop 1.0.0 to 1.2.0 published', ctx.host.rootKey);
  await ch.publish();
  const r = await verify(node, '--allow-reset');
  assert.is(r.code, 0, r.stderr);
  return { ch, node, anchor };
}

// A first run checks the tip against what the node's containers were deployed from, read from
// Docker; these nodes run nothing, so --allow-reset says so and the channel tier needs no engine.
async function verify(node: AgentNode, ...flags: string[]) {
  const r = await node.duck('verify', '--json', ...flags);
  return { ...r, json: r.json ?? {} };
}

async function anchorOf(node: AgentNode): Promise<string | null> {
  return (await readAgentState(node.stateDir)).channel.anchor?.commit ?? null;
}

/** The tip is refused out-of-scope naming `file` and `field`, and the node keeps `anchor`. */
async function assertOutOfScope(node: AgentNode, anchor: string, file: string, field: string, message?: RegExp): Promise<void> {
  const r = await verify(node);
  assert.is(r.code, 3, r.stdout);
  assert.is(r.json.reason, 'out-of-scope', String(r.json.message));
  const data = r.json.data as { file: string; field: string };
  assert.is(data.file, file, String(r.json.message));
  assert.is(data.field, field, String(r.json.message));
  assert.match(String(r.json.message), /promote-bot/);
  if (message) assert.match(String(r.json.message), message);
  assert.is(await anchorOf(node), anchor, 'a refused tip changes nothing');
}

Scope('a promote key moving production to a published version is accepted, checked against the last accepted commit', async (ctx) => {
  const { ch, node, anchor } = await scopedChannel(ctx);
  await writeGroup(ch, 'production', { shop: '1.2.0' }, { windows: WINDOWS, rollout: [{ percent: 10, at: '2026-11-24T02:00:00Z' }] });
  const tip = await ch.commit('promote shop 1.2.0 to production', ctx.promoter);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, tip);
  assert.is(r.json.signerScope, 'promote');
  assert.is(r.json.promotionBase, anchor);
  assert.is(await anchorOf(node), tip);
});

Scope('a promote key adding a release is refused out-of-scope', async (ctx) => {
  const { ch, node, anchor } = await scopedChannel(ctx);
  await writeRelease(ch, 'shop', '1.3.0');
  await writeGroup(ch, 'production', { shop: '1.3.0' }, { windows: WINDOWS });
  await ch.commit('publish and promote shop 1.3.0', ctx.promoter);
  await ch.publish();
  await assertOutOfScope(node, anchor, 'releases/shop/1.3.0', '');
});

Scope('a promote key editing a published release is refused out-of-scope, naming the file', async (ctx) => {
  const { ch, node, anchor } = await scopedChannel(ctx);
  await writeRelease(ch, 'shop', '1.1.0', { 'compose.yaml': 'services:\n  web:\n    image: evil/miner:1\n' });
  await ch.commit('swap the image of a published release', ctx.promoter);
  await ch.publish();
  await assertOutOfScope(node, anchor, 'releases/shop/1.1.0/compose.yaml', '');
});

Scope('a promote key changing channel.yaml is refused: as the tip, and passed over as an intermediate', async (ctx) => {
  const { ch, node, anchor } = await scopedChannel(ctx);
  await writePolicy(ch, ctx, { version: 2, promoterScope: 'all' });
  const grab = await ch.commit('make the bot a full signer', ctx.promoter);
  await ch.publish();
  await assertOutOfScope(node, anchor, 'channel.yaml', '', /trust policy/);

  // The bot's change stays refused; a later full-scope commit carries it on its own signature.
  await writeGroup(ch, 'production', { shop: '1.2.0' }, { windows: WINDOWS });
  const tip = await ch.commit('promote shop 1.2.0', ctx.publisher);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, tip);
  assert.is(r.json.signerScope, 'all');
  const passed = r.json.passedOver as Array<{ commit: string; reason: string; message: string }>;
  assert.equal(passed.map((p) => [p.commit, p.reason]), [[grab, 'out-of-scope']]);
});

Scope('a promote key replacing a key file is refused out-of-scope naming the key file', async (ctx) => {
  const { ch, node, anchor } = await scopedChannel(ctx);
  const other = await makeOpenpgpKey('publisher');
  await ch.write('keys/publisher.asc', other.armoredPublicKey);
  await ch.commit('replace the publisher key', ctx.promoter);
  await ch.publish();
  await assertOutOfScope(node, anchor, 'keys/publisher.asc', '');
});

Scope('a promote key naming an unpublished version is refused out-of-scope', async (ctx) => {
  const { ch, node, anchor } = await scopedChannel(ctx);
  await writeGroup(ch, 'production', { shop: '9.9.9' }, { windows: WINDOWS });
  await ch.commit('promote a version nobody published', ctx.promoter);
  await ch.publish();
  await assertOutOfScope(node, anchor, 'groups/production.yaml', '/apps/shop', /groups\/production\.yaml: \/apps\/shop: 9\.9\.9 is not published/);
});

Scope('a promote key setting an app below the promotion floor is refused out-of-scope', async (ctx) => {
  const { ch, node, anchor } = await scopedChannel(ctx, { floor: { shop: '1.1.0' } });
  await writeGroup(ch, 'production', { shop: '1.0.0' }, { windows: WINDOWS });
  await ch.commit('roll production back to 1.0.0', ctx.promoter);
  await ch.publish();
  await assertOutOfScope(node, anchor, 'groups/production.yaml', '/apps/shop', /1\.0\.0 is below the promotion floor 1\.1\.0/);
});

Scope('a promote key changing windows or urgent is refused out-of-scope', async (ctx) => {
  const { ch, node, anchor } = await scopedChannel(ctx);
  await writeGroup(ch, 'production', { shop: '1.2.0' });
  await ch.commit('promote and drop the windows', ctx.promoter);
  await ch.publish();
  await assertOutOfScope(node, anchor, 'groups/production.yaml', '/windows');

  await writeGroup(ch, 'production', { shop: '1.2.0' }, { windows: WINDOWS, urgent: true });
  await ch.commit('promote as urgent', ctx.promoter);
  await ch.publish();
  await assertOutOfScope(node, anchor, 'groups/production.yaml', '/urgent');
});

Scope('a promote key removing an app from a group is refused out-of-scope', async (ctx) => {
  const { ch, node, anchor } = await scopedChannel(ctx);
  await writeGroup(ch, 'staging', {});
  await ch.commit('take shop off staging', ctx.promoter);
  await ch.publish();
  await assertOutOfScope(node, anchor, 'groups/staging.yaml', '/apps/shop');
});

Scope('a full key publishes 1.3.0 and the promote key promotes it next: the base is the full-key commit', async (ctx) => {
  const { ch, node } = await scopedChannel(ctx);
  await writeRelease(ch, 'shop', '1.3.0');
  await writeGroup(ch, 'staging', { shop: '1.3.0' });
  const published = await ch.commit('publish shop 1.3.0 to staging', ctx.publisher);
  await writeGroup(ch, 'production', { shop: '1.3.0' }, { windows: WINDOWS });
  const tip = await ch.commit('promote shop 1.3.0 to production', ctx.promoter);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, tip);
  assert.is(r.json.promotionBase, published);
  assert.is(await anchorOf(node), tip);
});

Scope('an unsigned commit adding content, then a promotion of it, is refused out-of-scope', async (ctx) => {
  const { ch, node, anchor } = await scopedChannel(ctx);
  await writeRelease(ch, 'shop', '1.3.0');
  await ch.commit('wip: shop 1.3.0', null);
  await writeGroup(ch, 'production', { shop: '1.3.0' }, { windows: WINDOWS });
  await ch.commit('promote shop 1.3.0 to production', ctx.promoter);
  await ch.publish();
  await assertOutOfScope(node, anchor, 'releases/shop/1.3.0', '');
});

Scope('on a first run, content new since the root-signed policy commit is out of the promotion scope', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writePolicy(ch, ctx);
  await writeRelease(ch, 'shop', '1.0.0');
  await writeGroup(ch, 'production', { shop: '1.0.0' });
  // The root key vouches for the policy, but the content comes with the bot's commit alone.
  await ch.commit('policy', ctx.host.rootKey);
  await writeRelease(ch, 'shop', '1.1.0');
  await writeGroup(ch, 'production', { shop: '1.1.0' });
  await ch.commit('publish and promote 1.1.0', ctx.promoter);
  await ch.publish();
  const r = await verify(node, '--allow-reset');
  assert.is(r.code, 3);
  assert.is(r.json.reason, 'out-of-scope');
  assert.is(await anchorOf(node), null);
});

Scope.run();

// The release tools: keygen prints a promote-only entry, lint checks the floor, promote --scope
// promote writes only what such a key may sign.
const Tools = suite<{ root: string; keyFile: string; count: number }>('release tools for promotion-only keys', { root: '', keyFile: '', count: 0 });

Tools.before(async (ctx) => {
  ctx.root = await makeTempDir('duck-scope-tools-');
  ctx.keyFile = await writeKeyFile(ctx.root, await makeOpenpgpKey('release-bot'));
});
Tools.after(async (ctx) => removeTempDir(ctx.root));

/** A channel fresh from the template (hello 1.0.0 and 1.1.0; production on 1.0.0, urgent: false) with `floor`. */
async function templateChannel(ctx: { root: string; keyFile: string; count: number }, floor: Record<string, string>): Promise<string> {
  const dir = join(ctx.root, `channel-${++ctx.count}`);
  const r = await duckCli(ctx.root, ['release', 'init', dir, '--key', ctx.keyFile]);
  assert.is(r.code, 0, r.stderr);
  await appendFile(join(dir, 'channel.yaml'), stringify({ promotion: { floor } }));
  return dir;
}

Tools('keygen --promote prints the channel.yaml entry with scope: promote', async (ctx) => {
  const r = await duckCli(ctx.root, ['release', 'keygen', 'promote-bot', '--promote', '--output', join(ctx.root, 'promote-bot.key')]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, / {2}- name: promote-bot\n {4}key: keys\/promote-bot\.asc .*\n {4}scope: promote\n/);
  const json = await duckCli(ctx.root, ['release', 'keygen', 'promote-bot-2', '--promote', '--output', join(ctx.root, 'promote-bot-2.key'), '--json']);
  assert.equal((json.json as { signerEntry: unknown }).signerEntry, { name: 'promote-bot-2', key: 'keys/promote-bot-2.asc', scope: 'promote' });
});

Tools('lint refuses a promotion floor naming an unknown app or an unpublished version', async (ctx) => {
  const dir = await templateChannel(ctx, { hello: '1.0.0' });
  const clean = await duckCli(dir, ['release', 'lint']);
  assert.is(clean.code, 0, clean.stdout);
  const bad = await templateChannel(ctx, { hello: '9.9.9', shopp: '1.0.0' });
  const r = await duckCli(bad, ['release', 'lint']);
  assert.is(r.code, 3);
  assert.match(r.stdout, /^channel\.yaml:\d+:\d+: \/promotion\/floor\/hello: hello 9\.9\.9 is not published/m);
  assert.match(r.stdout, /^channel\.yaml:\d+:\d+: \/promotion\/floor\/shopp: no app shopp is published/m);
});

Tools('promote --scope promote refuses a version below the floor and urgent, and leaves urgent as it is', async (ctx) => {
  const dir = await templateChannel(ctx, { hello: '1.1.0' });
  const group = join(dir, 'groups', 'production.yaml');
  const before = await readFile(group, 'utf8');
  const low = await duckCli(dir, ['release', 'promote', 'production', 'hello@1.0.0', '--scope', 'promote']);
  assert.is(low.code, 2, low.stderr);
  assert.match(low.stderr, /groups\/production\.yaml: \/apps\/hello: 1\.0\.0 is below the promotion floor 1\.1\.0/);
  const urgent = await duckCli(dir, ['release', 'promote', 'production', 'hello@1.1.0', '--scope', 'promote', '--urgent']);
  assert.is(urgent.code, 2, urgent.stderr);
  assert.match(urgent.stderr, /\/urgent: a promotion-only key may not set urgent/);
  assert.is(await readFile(group, 'utf8'), before, 'nothing written');

  await appendFile(join(dir, 'groups', 'canary.yaml'), 'urgent: true\n');
  const ok = await duckCli(dir, ['release', 'promote', 'canary', 'hello@1.1.0', '--scope', 'promote']);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /urgent stays true/);
  assert.match(await readFile(join(dir, 'groups', 'canary.yaml'), 'utf8'), /^urgent: true$/m);
});

Tools.run();
