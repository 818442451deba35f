// DESIGN §3, the two-person rule: channel.yaml thresholds counted through the real `duck verify`
// CLI against a real git smart-HTTP server, approvals signed at test time by openpgp.js and GnuPG,
// and `duck release approve` / `lint` as a publisher runs them.
import * as openpgp from 'openpgp';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import type { GpgTestKey, OpenpgpTestKey, TestKey } from '../../examples/harness/keys.js';
import { makeGpgKey, makeOpenpgpKey, stopGpgAgent, testEmail } from '../../examples/harness/keys.js';
import type { Channel, ChannelHost, Signer } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { readAgentState } from '../helpers/agent-state.js';
import { writeGroup, writeRelease } from '../helpers/channel-fixtures.js';
import { duckCli, writeKeyFile } from '../helpers/release-cli.js';

interface Ctx {
  host: ChannelHost;
  alice: OpenpgpTestKey;
  bob: OpenpgpTestKey;
  carol: GpgTestKey;
  dave: OpenpgpTestKey;
  erin: OpenpgpTestKey;
  bot: GpgTestKey;
}

const Thresholds = suite<Ctx>('channel thresholds', {} as Ctx);

Thresholds.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-thresholds-');
  ctx.alice = await makeOpenpgpKey('alice');
  ctx.bob = await makeOpenpgpKey('bob');
  ctx.carol = await makeGpgKey('carol');
  ctx.dave = await makeOpenpgpKey('dave');
  ctx.erin = await makeOpenpgpKey('erin');
  ctx.bot = await makeGpgKey('release-bot');
});

Thresholds.after(async (ctx) => {
  await ctx.host.close();
  await stopGpgAgent(ctx.carol.gnupgHome);
  await stopGpgAgent(ctx.bot.gnupgHome);
});

const PRODUCTION_RULE = { paths: ['groups/production.yaml'], count: 2, signers: ['alice', 'bob', 'carol'] };

async function writePolicy(ch: Channel, version: number, signers: readonly TestKey[], thresholds: readonly object[]): Promise<void> {
  for (const key of signers) await ch.write(`keys/${key.name}.asc`, key.armoredPublicKey);
  const doc = { version, signers: signers.map((k) => ({ name: k.name, key: `keys/${k.name}.asc` })), thresholds };
  await ch.write('channel.yaml', stringify(doc));
}

/** A channel whose policy (signed by the root key) asks 2 of alice, bob, carol for production; the node has accepted it. */
async function startChannel(ctx: Ctx, thresholds: readonly object[] = [PRODUCTION_RULE]): Promise<{ ch: Channel; node: AgentNode; base: string }> {
  const { ch, node } = await ctx.host.fresh();
  await writePolicy(ch, 1, [ctx.alice, ctx.bob, ctx.carol, ctx.dave, ctx.bot], thresholds);
  for (const v of ['1.0.0', '1.1.0', '1.2.0']) await writeRelease(ch, 'shop', v);
  await writeGroup(ch, 'production', { shop: '1.0.0' });
  await writeGroup(ch, 'staging', { shop: '1.0.0' });
  const base = await ch.commit('channel with a two-person rule for production', ctx.host.rootKey);
  await ch.publish();
  await firstVerify(node);
  return { ch, node, base };
}

async function verify(node: AgentNode) {
  const r = await node.duck('verify', '--json');
  return { ...r, json: r.json ?? {} };
}

/**
 * The node's first acceptance. --allow-reset: a node without state would otherwise ask Docker what
 * it runs (the floor of DESIGN §3), which is not what these tests are about; every rule still applies.
 */
async function firstVerify(node: AgentNode): Promise<void> {
  const r = await node.duck('verify', '--json', '--allow-reset');
  assert.is(r.code, 0, r.stderr);
}

async function promote(ch: Channel, version: string, signer: Signer): Promise<string> {
  await writeGroup(ch, 'production', { shop: version });
  return ch.commit(`production runs shop ${version}`, signer);
}

/** Publishes, and checks the tip is refused with `name` the one signer counted. */
async function refusedWithOnly(ch: Channel, node: AgentNode, name: string): Promise<void> {
  await ch.publish();
  const r = await verify(node);
  assert.is(r.json.reason, 'threshold-unmet', r.stderr);
  assert.ok(String(r.json.message).includes(`signed by ${name}: 1 missing`), String(r.json.message));
}

const approve = (ch: Channel, commit: string, signer: Signer): Promise<string> => ch.commit(`approve ${commit}\n`, signer);

Thresholds('refuses a production change signed by one of alice, bob, carol with threshold-unmet naming the rule, who signed and what is missing', async (ctx) => {
  const { ch, node, base } = await startChannel(ctx);
  const change = await promote(ch, '1.1.0', ctx.alice);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 3, r.stdout);
  assert.is(r.json.reason, 'threshold-unmet');
  const message = String(r.json.message);
  for (const part of ['groups/production.yaml', 'needs 2 signatures of alice, bob, carol', 'signed by alice: 1 missing', `duck release approve ${change}`]) {
    assert.ok(message.includes(part), `${part} in: ${message}`);
  }
  const data = r.json.data as Record<string, unknown>;
  assert.equal([data.file, data.field, data.commit], ['channel.yaml', '/thresholds/0', change]);
  assert.is((await verify(node)).json.reason, 'threshold-unmet');
  assert.is((await readAgentState(node.stateDir)).channel.anchor?.commit, base, 'the refused tip changed nothing');
});

Thresholds('accepts the change once a second key of the rule signs an approve commit on top of it, and reports who counted', async (ctx) => {
  const { ch, node } = await startChannel(ctx);
  const change = await promote(ch, '1.1.0', ctx.alice);
  const approval = await approve(ch, change, ctx.bob);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, approval);
  assert.equal(r.json.thresholds, [{ paths: ['groups/production.yaml'], count: 2, signers: ['alice', 'bob'] }]);
});

Thresholds('counts the same key once: the author approving their own change does not meet 2 of 3', async (ctx) => {
  const { ch, node } = await startChannel(ctx);
  const change = await promote(ch, '1.1.0', ctx.alice);
  await approve(ch, change, ctx.alice);
  await refusedWithOnly(ch, node, 'alice');
});

Thresholds('counts a primary key and its signing subkey as one key', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  const pair = await makeKeyWithSigningSubkey('frank');
  await writePolicy(ch, 1, [ctx.alice, pair.subkey, ctx.bot], [{ paths: ['groups/production.yaml'], count: 2 }]);
  await writeRelease(ch, 'shop', '1.0.0');
  await writeRelease(ch, 'shop', '1.1.0');
  await writeGroup(ch, 'production', { shop: '1.0.0' });
  await ch.commit('setup', ctx.host.rootKey);
  await ch.publish();
  await firstVerify(node);
  const change = await promote(ch, '1.1.0', pair.subkey);
  const approval = await approve(ch, change, pair.primary);
  assert.is.not(await issuerOf(ch, change), await issuerOf(ch, approval), 'one signature by the subkey, one by the primary key');
  await refusedWithOnly(ch, node, 'frank');
});

Thresholds("does not count an approval by a channel signer outside the rule's set", async (ctx) => {
  const { ch, node } = await startChannel(ctx);
  const change = await promote(ch, '1.1.0', ctx.alice);
  await approve(ch, change, ctx.dave);
  await refusedWithOnly(ch, node, 'alice');
});

Thresholds('does not count an approval whose tree differs: the content changed after it was approved', async (ctx) => {
  const { ch, node } = await startChannel(ctx);
  const change = await promote(ch, '1.1.0', ctx.alice);
  await approve(ch, change, ctx.bob);
  await promote(ch, '1.2.0', ctx.alice);
  await refusedWithOnly(ch, node, 'alice');
});

Thresholds('accepts a change to another group with one signature', async (ctx) => {
  const { ch, node } = await startChannel(ctx);
  await writeGroup(ch, 'staging', { shop: '1.1.0' });
  const tip = await ch.commit('staging runs shop 1.1.0', ctx.alice);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, tip);
  assert.equal(r.json.thresholds, []);
});

Thresholds("accepts a merged pull request: the author's commit and an approval on the branch, merged by the bot with GnuPG", async (ctx) => {
  const { ch, node, base } = await startChannel(ctx);
  const change = await promote(ch, '1.1.0', ctx.alice);
  const approval = await approve(ch, change, ctx.bob);
  await ch.resetHard(base);
  await ch.git('merge', '--quiet', '--no-ff', '--no-commit', approval);
  const merge = await ch.commit('Merge pull request #7: shop 1.1.0 in production', ctx.bot);
  assert.is((await ch.git('log', '-1', '--format=%P', merge)).trim(), `${base} ${approval}`);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, merge);
  assert.equal(r.json.thresholds, [{ paths: ['groups/production.yaml'], count: 2, signers: ['alice', 'bob'] }]);
});

Thresholds("rotates channel.yaml only with the old policy's threshold (old keys) and the new one's (new keys)", async (ctx) => {
  const rule = (signers: string[]): object => ({ paths: ['channel.yaml'], count: 2, signers });
  const { ch, node } = await startChannel(ctx, [rule(['alice', 'bob'])]);
  // erin replaces bob in the rule: the old set (alice, bob) and the new set (alice, erin) must both sign.
  await writePolicy(ch, 2, [ctx.alice, ctx.bob, ctx.carol, ctx.dave, ctx.bot, ctx.erin], [rule(['alice', 'erin'])]);
  const rotation = await ch.commit('erin joins the policy rule', ctx.alice);
  await approve(ch, rotation, ctx.bob);
  await ch.publish();
  const refused = await verify(node);
  assert.is(refused.json.reason, 'threshold-unmet');
  const message = String(refused.json.message);
  assert.ok(message.includes("this commit's channel.yaml") && message.includes('needs 2 signatures of alice, erin') && message.includes('signed by alice: 1 missing'), message);
  assert.is((refused.json.data as Record<string, unknown>).policy, 'new');

  // The new key's approval, then a tip an old key signs (the policy in force judges the tip's signature).
  await approve(ch, rotation, ctx.erin);
  const tip = await approve(ch, rotation, ctx.carol);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, tip);
  assert.is(r.json.channelVersion, 2);
  const passedOver = r.json.passedOver as Array<{ commit: string; reason: string }>;
  assert.is(passedOver.find((p) => p.commit === rotation)?.reason, 'threshold-unmet', 'the rotation alone, an intermediate commit, is passed over');
  assert.equal(r.json.thresholds, [
    { paths: ['channel.yaml'], count: 2, signers: ['alice', 'bob'] },
    { paths: ['channel.yaml'], count: 2, signers: ['alice', 'erin'] },
  ]);
});

Thresholds('duck release approve makes a signed approval (openpgp.js or GnuPG) agents count, and refuses one for other content', async (ctx) => {
  const { ch, node } = await startChannel(ctx);
  const change = await promote(ch, '1.1.0', ctx.alice);
  const keyFile = await writeKeyFile(node.dir, ctx.bob);
  const made = await duckCli(ch.workDir, ['release', 'approve', 'HEAD', '--key', keyFile, '--json']);
  assert.is(made.code, 0, made.stderr);
  assert.is(made.json?.approved, change);
  assert.is((await ch.git('log', '-1', '--format=%B')).trim(), `approve ${change}`);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.json.thresholds, [{ paths: ['groups/production.yaml'], count: 2, signers: ['alice', 'bob'] }]);

  const next = await promote(ch, '1.2.0', ctx.alice);
  const stale = await duckCli(ch.workDir, ['release', 'approve', change, '--key', keyFile, '--json']);
  assert.is(stale.code, 2, stale.stdout);
  assert.ok(String(stale.json?.message).includes('groups/production.yaml'), String(stale.json?.message));
  const gpgEnv = { GNUPGHOME: ctx.carol.gnupgHome, GIT_AUTHOR_NAME: 'carol', GIT_AUTHOR_EMAIL: testEmail('carol') };
  await ch.git('config', 'user.signingkey', ctx.carol.fingerprint);
  const byGnupg = await duckCli(ch.workDir, ['release', 'approve', next, '--json'], gpgEnv);
  assert.is(byGnupg.code, 0, byGnupg.stderr);
  await ch.publish();
  const again = await verify(node);
  assert.is(again.code, 0, again.stderr);
  assert.equal(again.json.thresholds, [{ paths: ['groups/production.yaml'], count: 2, signers: ['alice', 'carol'] }]);
});

Thresholds('duck release lint --base says which rule the change touches, who signed and how many approvals are missing', async (ctx) => {
  const { ch, base } = await startChannel(ctx);
  const change = await promote(ch, '1.1.0', ctx.alice);
  const lint = await duckCli(ch.workDir, ['release', 'lint', '--base', base]);
  const line = lint.stdout.split('\n').find((l) => l.startsWith('channel.yaml:') && l.includes('/thresholds/0'));
  assert.ok(line, lint.stdout);
  assert.ok(line.includes('needs 2 signatures of alice, bob, carol') && line.includes('signed by alice: 1 missing') && line.includes(change.slice(0, 12)), line);
  assert.is(lint.code, 3);

  await approve(ch, change, ctx.bob);
  const after = await duckCli(ch.workDir, ['release', 'lint', '--base', base]);
  assert.not.ok(after.stdout.includes('/thresholds/0'), after.stdout);
  assert.ok(after.stdout.includes('threshold met: groups/production.yaml: 2 needed, signed by alice, bob'), after.stdout);
  const json = await duckCli(ch.workDir, ['release', 'lint', '--base', base, '--json']);
  assert.equal(json.json?.thresholds, [{ paths: ['groups/production.yaml'], count: 2, signers: ['alice', 'bob'], missing: 0 }]);
});

/** One certificate with a signing subkey: `subkey` signs with the subkey, `primary` (subkey stripped) with the primary key. */
async function makeKeyWithSigningSubkey(name: string): Promise<{ subkey: OpenpgpTestKey; primary: OpenpgpTestKey }> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name, email: testEmail(name) }],
    subkeys: [{ sign: true }],
    format: 'armored',
  });
  const full = await openpgp.readPrivateKey({ armoredKey: privateKey });
  const fingerprint = full.getFingerprint().toUpperCase();
  const bare = await openpgp.readPrivateKey({ armoredKey: privateKey });
  bare.subkeys = [];
  const subkey: OpenpgpTestKey = { kind: 'openpgp', name, fingerprint, armoredPublicKey: publicKey, armoredPrivateKey: privateKey };
  return { subkey, primary: { ...subkey, armoredPrivateKey: bare.armor() } };
}

async function issuerOf(ch: Channel, commit: string): Promise<string> {
  const signature = await openpgp.readSignature({ armoredSignature: (await ch.signatureOf(commit))! });
  return (signature.packets[0] as unknown as openpgp.SignaturePacket).issuerKeyID.toHex();
}

Thresholds.run();
