// DESIGN §3 trust rules through the real `duck verify` CLI against a real git smart-HTTP server,
// with commits signed at test time by openpgp.js and by GnuPG.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import type { GpgTestKey, OpenpgpTestKey } from '../../examples/harness/keys.js';
import { makeGpgKey, makeOpenpgpKey, stopGpgAgent } from '../../examples/harness/keys.js';
import { readAgentState } from '../helpers/agent-state.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeBasicChannel, writeChannelYaml, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';

interface Ctx {
  host: ChannelHost;
  rootKey: OpenpgpTestKey;
  botKey: OpenpgpTestKey;
  gpgKey: GpgTestKey;
}

const Trust = suite<Ctx>('channel trust', {} as Ctx);

Trust.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-trust-');
  ctx.rootKey = ctx.host.rootKey;
  ctx.botKey = await makeOpenpgpKey('release-bot');
  ctx.gpgKey = await makeGpgKey('maintainer');
});

Trust.after(async (ctx) => {
  await ctx.host.close();
  await stopGpgAgent(ctx.gpgKey.gnupgHome);
});

async function verify(node: AgentNode) {
  const r = await node.duck('verify', '--json');
  return { ...r, json: r.json ?? {} };
}

Trust('accepts a channel whose commit the agent root key signed with openpgp.js', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.botKey]);
  const oid = await ch.commit('first release', ctx.rootKey);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, oid);
  assert.equal(r.json.signer, { name: 'root', fingerprint: ctx.rootKey.fingerprint });
});

Trust('accepts GnuPG and openpgp.js signatures over messages with CRLF, trailing spaces and non-ASCII text', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.botKey, ctx.gpgKey]);
  await ch.commit('setup', ctx.rootKey);
  await writeRelease(ch, 'shop', '1.1.0');
  await writeGroup(ch, 'production', { shop: '1.1.0' });
  const gpgOid = await ch.commit('Publish shop 1.1.0 \r\n\r\nÄnderung: café ☕  \r\n', ctx.gpgKey);
  await ch.publish();
  let r = await verify(node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, gpgOid);
  assert.is((r.json.signer as { fingerprint: string }).fingerprint, ctx.gpgKey.fingerprint);

  await writeRelease(ch, 'shop', '1.2.0');
  await writeGroup(ch, 'production', { shop: '1.2.0' });
  const pgpOid = await ch.commit('Publish 1.2.0   \r\n\r\n日本語のメッセージ\t \r\n', ctx.botKey);
  await ch.publish();
  r = await verify(node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, pgpOid);
});

Trust('refuses an unsigned tip with unsigned and keeps the last accepted commit', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.botKey]);
  const good = await ch.commit('signed', ctx.rootKey);
  await ch.publish();
  assert.is((await verify(node)).code, 0);
  await writeGroup(ch, 'production', { shop: '1.0.0' }, { urgent: true });
  await ch.commit('unsigned change', null);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 3);
  assert.is(r.json.reason, 'unsigned');
  assert.match(r.stderr.trim().split('\n').pop()!, /^refused: unsigned: /);
  const again = await node.duck('status-of-anchor-is-checked-below');
  assert.is(again.code, 2, 'an unknown command is a usage error');
  assert.is(await anchorOf(node), good);
});

Trust('refuses a tip signed by a key no policy lists with untrusted-signer naming its fingerprint', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  const stranger = await makeOpenpgpKey('stranger');
  await writeBasicChannel(ch, [ctx.botKey]);
  await ch.commit('signed', ctx.rootKey);
  await writeGroup(ch, 'production', { shop: '1.0.0' }, { urgent: true });
  await ch.commit('by a stranger', stranger);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 3);
  assert.is(r.json.reason, 'untrusted-signer');
  assert.ok(String(r.json.message).includes(stranger.fingerprint), String(r.json.message));
  assert.is(await anchorOf(node), null);
});

Trust('passes over unsigned intermediate commits when the tip is signed', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.botKey]);
  await ch.commit('wip', null);
  await writeRelease(ch, 'shop', '1.1.0');
  await ch.commit('more wip', null);
  await writeGroup(ch, 'production', { shop: '1.1.0' });
  const tip = await ch.commit('release', ctx.botKey);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 3, 'the bot key is not trusted until a trusted commit lists it');
  assert.is(r.json.reason, 'untrusted-signer');
  await ch.commit('vouch', ctx.rootKey);
  await ch.publish();
  const ok = await verify(node);
  assert.is(ok.code, 0, ok.stderr);
  assert.not.equal(ok.json.commit, tip);
});

Trust('rotates keys through channel.yaml: the old key adds a new one, which then signs releases', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  const next = await makeOpenpgpKey('next-bot');
  await writeBasicChannel(ch, [ctx.botKey]);
  await ch.commit('start', ctx.rootKey);
  await ch.publish();
  assert.is((await verify(node)).code, 0);

  await writeChannelYaml(ch, { version: 2, signers: [next] });
  await ch.commit('rotate to next-bot', ctx.botKey);
  await writeRelease(ch, 'shop', '1.1.0');
  await writeGroup(ch, 'production', { shop: '1.1.0' });
  const tip = await ch.commit('release by next-bot', next);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, tip);
  assert.is(r.json.channelVersion, 2);

  await writeRelease(ch, 'shop', '1.2.0');
  await writeGroup(ch, 'production', { shop: '1.2.0' });
  await ch.commit('the retired key signs again', ctx.botKey);
  await ch.publish();
  const retired = await verify(node);
  assert.is(retired.code, 3);
  assert.is(retired.json.reason, 'untrusted-signer');
});

Trust('refuses a commit whose new signer vouches for itself', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  const intruder = await makeOpenpgpKey('intruder');
  await writeBasicChannel(ch, [ctx.botKey]);
  await ch.commit('start', ctx.rootKey);
  await writeChannelYaml(ch, { version: 2, signers: [ctx.botKey, intruder] });
  await ch.commit('add myself', intruder);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 3);
  assert.is(r.json.reason, 'untrusted-signer');
  assert.ok(String(r.json.message).includes(intruder.fingerprint));
});

Trust('refuses a channel.yaml change that does not grow its version with trust-rollback', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  const extra = await makeOpenpgpKey('extra');
  await writeBasicChannel(ch, [ctx.botKey], { version: 5 });
  await ch.commit('v5', ctx.rootKey);
  await ch.publish();
  assert.is((await verify(node)).code, 0);
  await writeChannelYaml(ch, { version: 5, signers: [ctx.botKey, extra] });
  await ch.commit('same version, new signer', ctx.botKey);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 3);
  assert.is(r.json.reason, 'trust-rollback');
});

Trust('refuses a force-push back to an older signed commit with history-rewritten', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.botKey]);
  const first = await ch.commit('1.0.0', ctx.rootKey);
  await writeRelease(ch, 'shop', '1.1.0');
  await writeGroup(ch, 'production', { shop: '1.1.0' });
  const second = await ch.commit('1.1.0', ctx.botKey);
  await ch.publish();
  assert.is((await verify(node)).json.commit, second);
  await ch.resetHard(first);
  await ch.publish({ force: true });
  const r = await verify(node);
  assert.is(r.code, 3);
  assert.is(r.json.reason, 'history-rewritten');
  assert.is(await anchorOf(node), second);
});

Trust('accepts a signed git revert, which moves forward to the previous release', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.botKey]);
  await ch.commit('1.0.0', ctx.rootKey);
  await writeRelease(ch, 'shop', '1.1.0');
  await writeGroup(ch, 'production', { shop: '1.1.0' });
  const bad = await ch.commit('1.1.0', ctx.botKey);
  await ch.publish();
  assert.is((await verify(node)).code, 0);
  const revert = await ch.revert(bad, ctx.botKey);
  await ch.publish();
  const r = await node.duck('check', '--json');
  assert.is(r.code, 0, r.stderr);
  const json = r.json as { channel: { commit: string }; apps: Array<{ app: string; desired: string }> };
  assert.is(json.channel.commit, revert);
  assert.equal(json.apps.map((a) => [a.app, a.desired]), [['shop', '1.0.0']]);
});

Trust('refuses a signature moved from another commit with bad-signature', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.botKey]);
  const signed = await ch.commit('genuine', ctx.rootKey);
  await writeGroup(ch, 'production', { shop: '1.0.0' }, { urgent: true });
  await ch.commitWithSignature('forged', (await ch.signatureOf(signed))!);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 3);
  assert.is(r.json.reason, 'bad-signature');
});

async function anchorOf(node: AgentNode): Promise<string | null> {
  return (await readAgentState(node.stateDir)).channel.anchor?.commit ?? null;
}

Trust.run();
