// What an accepted commit must hold (DESIGN §2–3): schemas with line and column, safe paths,
// size caps, per-file sha256, freshness, the agent's clock, and what a poll costs on the wire.
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkChannel } from '../../agent/src/node/cycle.js';
import type { NodeParts } from '../../agent/src/node/wiring.js';
import { wireNode } from '../../agent/src/node/wiring.js';
import type { DuckError } from '../../schemas/errors.js';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import type { GitServer } from '../../examples/harness/git-http-server.js';
import { startGitServer } from '../../examples/harness/git-http-server.js';
import type { OpenpgpTestKey } from '../../examples/harness/keys.js';
import { makeOpenpgpKey, revokeOpenpgpKey } from '../../examples/harness/keys.js';
import { readAgentState, writeAgentState } from '../helpers/agent-state.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { DEFAULT_COMPOSE, publishBasicChannel, sha256, writeBasicChannel, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';

interface Ctx {
  host: ChannelHost;
  /** A second server on the host's root that wants the channel token. */
  tokenServer: GitServer;
  rootKey: OpenpgpTestKey;
}

const Content = suite<Ctx>('channel content', {} as Ctx);
const TOKEN = 's3cret-channel-token';

Content.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-content-');
  ctx.tokenServer = await startGitServer({ root: ctx.host.root, token: TOKEN });
  ctx.rootKey = ctx.host.rootKey;
});

Content.after(async (ctx) => {
  await ctx.tokenServer.close();
  await ctx.host.close();
});

async function refusal(node: AgentNode): Promise<{ reason: string; message: string }> {
  const r = await node.duck('verify', '--json');
  assert.is(r.code, 3, `expected exit 3, got ${r.code}: ${r.stderr}`);
  return r.json as { reason: string; message: string };
}

Content('refuses a schema error with invalid, naming the file, line, column and field', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.rootKey]);
  await ch.write('groups/production.yaml', 'apps:\n  shop: 1.0.0\nwindows:\n  - days: [sat]\n    start: "2am"\n    duration: 3h\n');
  await ch.commit('bad window', ctx.rootKey);
  await ch.publish();
  const r = await refusal(node);
  assert.is(r.reason, 'invalid');
  assert.match(r.message, /^groups\/production\.yaml:5:\d+: \/windows\/0\/start: /);
});

Content('refuses a window in an unknown time zone with invalid, never a silent UTC', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.rootKey]);
  await writeGroup(ch, 'production', { shop: '1.0.0' }, { windows: [{ days: ['sat'], start: '02:00', duration: '3h', timezone: 'Mars/Olympus' }] });
  await ch.commit('bad zone', ctx.rootKey);
  await ch.publish();
  const r = await refusal(node);
  assert.is(r.reason, 'invalid');
  assert.match(r.message, /groups\/production\.yaml: \/windows\/0\/timezone: unknown time zone "Mars\/Olympus"/);
});

Content('refuses an unknown key in a release with invalid at its line', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.rootKey]);
  await writeRelease(ch, 'shop', '1.0.0', undefined, { colour: 'blue' });
  await ch.commit('unknown key', ctx.rootKey);
  await ch.publish();
  const r = await refusal(node);
  assert.is(r.reason, 'invalid');
  assert.match(r.message, /^releases\/shop\/1\.0\.0\/release\.yaml:\d+:\d+: .*colour/);
});

Content('refuses a group that pins a version the channel does not have', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.rootKey]);
  await writeGroup(ch, 'production', { shop: '9.9.9' });
  await ch.commit('missing version', ctx.rootKey);
  await ch.publish();
  const r = await refusal(node);
  assert.is(r.reason, 'invalid');
  assert.match(r.message, /groups\/production\.yaml: \/apps\/shop: version 9\.9\.9/);
});

Content('refuses a release file path that escapes its directory with unsafe-path', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.rootKey]);
  await ch.write('releases/shop/1.0.0/release.yaml', `app: shop\nversion: 1.0.0\nfiles:\n  ../../../etc/passwd: ${'a'.repeat(64)}\n`);
  await ch.commit('escape', ctx.rootKey);
  await ch.publish();
  assert.is((await refusal(node)).reason, 'unsafe-path');
});

Content('refuses a crafted tree entry named .. with unsafe-path and keeps the clone', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await publishBasicChannel(ch, ctx.rootKey);
  assert.is((await node.duck('verify', '--json')).code, 0);
  const compose = (await ch.git('rev-parse', 'HEAD:releases/shop/1.0.0/compose.yaml')).trim();
  const tree = await ch.treeWithEntry('releases/shop/1.0.0', { mode: '100644', name: '..', oid: compose });
  await ch.commit('a tree entry git would never write', ctx.rootKey, { tree });
  await ch.publish();

  const first = await refusal(node);
  assert.is(first.reason, 'unsafe-path');
  assert.match(first.message, /^releases\/shop\/1\.0\.0\/\.\.: /);
  // A refusal is the channel's doing, not a broken clone: the clone is kept, never fetched again.
  const clone = join(node.stateDir, 'channel.git');
  const marker = join(clone, 'duck-test-marker');
  await writeFile(marker, 'kept');
  const objectsBefore = await objectFiles(clone);
  const second = await refusal(node);
  assert.is(second.reason, 'unsafe-path');
  assert.is(await readFile(marker, 'utf8'), 'kept');
  assert.equal(await objectFiles(clone), objectsBefore);
});

// An empty name git cannot even push; the unit tests of tree-object cover it.
for (const name of ['.', 'a/b']) {
  Content(`refuses a crafted tree entry named "${name}" with unsafe-path`, async (ctx) => {
    const { ch, node } = await ctx.host.fresh();
    await writeBasicChannel(ch, [ctx.rootKey]);
    await ch.commit('base', ctx.rootKey);
    const compose = (await ch.git('rev-parse', 'HEAD:releases/shop/1.0.0/compose.yaml')).trim();
    const tree = await ch.treeWithEntry('releases/shop/1.0.0', { mode: '100644', name, oid: compose });
    await ch.commit('a tree entry git would never write', ctx.rootKey, { tree });
    await ch.publish();
    const r = await refusal(node);
    assert.is(r.reason, 'unsafe-path');
    assert.match(r.message, /^releases\/shop\/1\.0\.0\//);
  });
}

Content('refuses a symbolic link inside a release with unsafe-path', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.rootKey]);
  await ch.symlink('releases/shop/1.0.0/secrets', '/etc/shadow');
  await ch.commit('symlink', ctx.rootKey);
  await ch.publish();
  const r = await refusal(node);
  assert.is(r.reason, 'unsafe-path');
  assert.match(r.message, /releases\/shop\/1\.0\.0\/secrets/);
});

Content('refuses a release file whose bytes do not match its listed sha256 with digest-mismatch', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await publishBasicChannel(ch, ctx.rootKey);
  await ch.write('releases/shop/1.0.0/compose.yaml', 'services:\n  web:\n    image: evil/miner\n');
  await ch.commit('tampered compose', ctx.rootKey);
  await ch.publish();
  const r = await refusal(node);
  assert.is(r.reason, 'digest-mismatch');
  assert.match(r.message, /releases\/shop\/1\.0\.0\/compose\.yaml/);
});

Content('refuses a channel file over the size cap with too-large, naming its blob, before it is inflated', async (ctx) => {
  const { ch, node } = await ctx.host.fresh({ limits: { maxFileBytes: 4096 } });
  await writeBasicChannel(ch, [ctx.rootKey]);
  const big = 'x'.repeat(10_000);
  await writeRelease(ch, 'shop', '1.0.0', { 'compose.yaml': 'services: {}\n', 'big.txt': big });
  await ch.commit('big file', ctx.rootKey);
  await ch.publish();
  const r = await refusal(node);
  assert.is(r.reason, 'too-large');
  // The download is refused as it arrives, before any tree names it: the message names the blob.
  const blob = (await ch.git('rev-parse', 'HEAD:releases/shop/1.0.0/big.txt')).trim();
  assert.ok(r.message.includes(`blob ${blob} of 10000 bytes`), r.message);
  assert.is(sha256(big).length, 64);
});

Content('refuses a release listing more files than maxReleaseFiles with too-large, before reading any of them', async (ctx) => {
  const { ch, node } = await ctx.host.fresh({ limits: { maxReleaseFiles: 3 } });
  await writeBasicChannel(ch, [ctx.rootKey]);
  await writeRelease(ch, 'shop', '1.0.0', { 'compose.yaml': DEFAULT_COMPOSE, 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' });
  // Read, this file would be a digest-mismatch: the cap answers first.
  await ch.write('releases/shop/1.0.0/c.txt', 'tampered');
  await ch.commit('four files', ctx.rootKey);
  await ch.publish();
  const r = await refusal(node);
  assert.is(r.reason, 'too-large');
  assert.match(r.message, /^releases\/shop\/1\.0\.0\/release\.yaml: \/files: lists 4 files: .*agent config \/limits\/maxReleaseFiles/);
});

Content('refuses a release directory holding more files than maxReleaseFiles with too-large', async (ctx) => {
  const { ch, node } = await ctx.host.fresh({ limits: { maxReleaseFiles: 3 } });
  await writeBasicChannel(ch, [ctx.rootKey]);
  for (const name of ['a', 'b', 'c']) await ch.write(`releases/shop/1.0.0/extra/${name}.txt`, name);
  await ch.commit('files the release does not list', ctx.rootKey);
  await ch.publish();
  const r = await refusal(node);
  assert.is(r.reason, 'too-large');
  assert.match(r.message, /^releases\/shop\/1\.0\.0\/release\.yaml: \/files: releases\/shop\/1\.0\.0 holds more than 3 files: .*\/limits\/maxReleaseFiles/);
});

Content('accepts a release of exactly maxReleaseFiles files', async (ctx) => {
  const { ch, node } = await ctx.host.fresh({ limits: { maxReleaseFiles: 3 } });
  await writeBasicChannel(ch, [ctx.rootKey]);
  await writeRelease(ch, 'shop', '1.0.0', { 'compose.yaml': DEFAULT_COMPOSE, 'a.txt': 'a', 'b.txt': 'b' });
  await ch.commit('three files', ctx.rootKey);
  await ch.publish();
  const r = await node.duck('verify', '--json');
  assert.is(r.code, 0, r.stderr);
});

Content('refuses a channel download over the fetch cap with too-large', async (ctx) => {
  const { ch, node } = await ctx.host.fresh({ limits: { maxFetchBytes: 2048 } });
  await writeBasicChannel(ch, [ctx.rootKey]);
  await writeRelease(ch, 'shop', '1.0.0', { 'compose.yaml': 'services: {}\n', 'noise.bin': randomText(64_000) });
  await ch.commit('large pack', ctx.rootKey);
  await ch.publish();
  assert.is((await refusal(node)).reason, 'too-large');
});

Content('reports a channel older than its freshness as stale, still accepted', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.rootKey], { freshness: '1d' });
  const oid = await ch.commit('old', ctx.rootKey, { date: new Date(Date.now() - 3 * 86_400_000) });
  await ch.publish();
  const r = await node.duck('verify', '--json');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json?.commit, oid);
  assert.is(r.json?.stale, true);
  assert.match(r.stderr, /stale/);
});

Content('judges key expiry by the agent clock, not by the commit date', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  const shortLived = await makeOpenpgpKey('short-lived', { expiresInSeconds: 3600 });
  await writeBasicChannel(ch, [shortLived]);
  await ch.commit('vouch', ctx.rootKey);
  await writeGroup(ch, 'production', { shop: '1.0.0' }, { urgent: true });
  await ch.commit('signed while valid', shortLived, { date: new Date(Date.now() - 86_400_000) });
  await ch.publish();
  const later = new Date(Date.now() + 2 * 3600_000);
  const agent = await wireNode({ configFile: node.configFile, clock: () => later });
  const err = await verify(agent).then(
    () => null,
    (e: DuckError) => e,
  );
  assert.ok(err, 'a key expired by the agent clock must not be accepted');
  assert.is(err.code, 'untrusted-signer');
  assert.match(err.message, /short-lived/);
});

Content('refuses a commit signed by a key the channel has since revoked', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  const bot = await makeOpenpgpKey('bot');
  await writeBasicChannel(ch, [bot]);
  await ch.commit('vouch', ctx.rootKey);
  await ch.write('keys/bot.asc', (await revokeOpenpgpKey(bot)).armoredPublicKey);
  await ch.write('channel.yaml', (await readFile(`${ch.workDir}/channel.yaml`, 'utf8')).replace('version: 1', 'version: 2'));
  await ch.commit('revoke bot', ctx.rootKey);
  await writeGroup(ch, 'production', { shop: '1.0.0' }, { urgent: true });
  await ch.commit('bot signs anyway', bot);
  await ch.publish();
  const r = await refusal(node);
  assert.is(r.reason, 'untrusted-signer');
  assert.match(r.message, /revoked/i);
});

Content('refuses to decide when the clock went back behind a time already seen', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await publishBasicChannel(ch, ctx.rootKey);
  const now = Date.now();
  assert.ok((await verify(await wireNode({ configFile: node.configFile, clock: () => new Date(now) }))).anchor);
  const err = await verify(await wireNode({ configFile: node.configFile, clock: () => new Date(now - 3600_000) })).then(
    () => null,
    (e: DuckError) => e,
  );
  assert.is(err?.code, 'clock-regressed');
});

Content('a poll where the tip has not moved costs one ref request and no pack', async (ctx) => {
  const { ch, node, name } = await ctx.host.fresh();
  await publishBasicChannel(ch, ctx.rootKey);
  assert.is((await node.duck('verify')).code, 0);
  ctx.host.server.resetLog();
  const r = await node.duck('verify', '--json');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json?.fetched, false);
  const mine = ctx.host.server.requests.filter((q) => q.path.includes(`/${name}.git`));
  assert.is(mine.length, 1, JSON.stringify(mine));
  assert.is(mine[0]!.method, 'GET');
});

Content('fetches with the channel token, without a 401 round trip', async (ctx) => {
  const { ch, node } = await ctx.host.fresh({ server: ctx.tokenServer, token: TOKEN });
  await publishBasicChannel(ch, ctx.rootKey);
  ctx.tokenServer.resetLog();
  const r = await node.duck('verify', '--json');
  assert.is(r.code, 0, r.stderr);
  assert.ok(ctx.tokenServer.requests.length > 0);
  assert.ok(ctx.tokenServer.requests.every((q) => q.status !== 401), JSON.stringify(ctx.tokenServer.requests));
});

Content('re-fetches a deleted or corrupted clone and verifies it again from the anchor', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  const first = await publishBasicChannel(ch, ctx.rootKey);
  assert.is((await node.duck('verify')).code, 0);
  await rm(`${node.stateDir}/channel.git`, { recursive: true });
  await writeRelease(ch, 'shop', '1.1.0');
  await writeGroup(ch, 'production', { shop: '1.1.0' });
  const second = await ch.commit('1.1.0', ctx.rootKey);
  await ch.publish();
  const r = await node.duck('verify', '--json');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json?.commit, second);
  assert.is.not(first, second);
  // Corrupt every pack of the clone: the agent must fetch again rather than trust what is there.
  const packDir = `${node.stateDir}/channel.git/objects/pack`;
  for (const file of await readdir(packDir)) if (file.endsWith('.pack')) await writeFile(`${packDir}/${file}`, 'garbage');
  await writeGroup(ch, 'production', { shop: '1.0.0' });
  const third = await ch.commit('back to 1.0.0', ctx.rootKey);
  await ch.publish();
  const again = await node.duck('verify', '--json');
  assert.is(again.code, 0, again.stderr);
  assert.is(again.json?.commit, third);
});

Content('takes a commit signature from the cache instead of verifying it twice', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await publishBasicChannel(ch, ctx.rootKey);
  assert.is((await node.duck('verify')).code, 0);
  await ch.write('releases/shop/1.0.0/compose.yaml', 'services: {}\n');
  const tip = await ch.commit('tampered', ctx.rootKey);
  await ch.publish();
  assert.is((await refusal(node)).reason, 'digest-mismatch');
  // The tip's good signature is now a cached fact; overwrite it to see the next walk use it.
  const state = await readAgentState(node.stateDir);
  assert.is(state.channel.verified[tip]?.valid, true);
  state.channel.verified[tip] = { ...state.channel.verified[tip]!, valid: false, message: 'marked bad in the cache' };
  await writeAgentState(node.stateDir, state);
  const r = await refusal(node);
  assert.is(r.reason, 'bad-signature');
  assert.is(r.message, 'marked bad in the cache');
});

/** Every file under a clone's objects/, sorted: the same list means nothing was fetched again. */
async function objectFiles(clone: string): Promise<string[]> {
  return (await readdir(join(clone, 'objects'), { recursive: true })).sort();
}

function randomText(n: number): string {
  let s = '';
  while (s.length < n) s += Math.random().toString(36).slice(2);
  return s.slice(0, n);
}

Content.run();

/** The fetch and accept stages as `duck verify` runs them in-process. */
function verify(node: NodeParts) {
  return checkChannel({ node, log: () => undefined });
}
