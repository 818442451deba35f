// SSH-signed commits (git config gpg.format ssh, issue 17) through the real `duck verify` CLI
// against a real git smart-HTTP server: commits signed by real `git commit -S` with keys made by
// ssh-keygen at test time, the fingerprints checked against ssh-keygen's own.
import { chmod, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { makeAgentNode } from '../../examples/harness/agent-node.js';
import type { SshKeyType, SshTestKey } from '../../examples/harness/keys.js';
import { makeOpenpgpKey, makeSshKey } from '../../examples/harness/keys.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';
import type { Channel, ChannelHost } from '../helpers/channel-builder.js';
import { isolatedGitEnv, startChannelHost } from '../helpers/channel-builder.js';
import { writeBasicChannel, writeChannelYaml, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';
import { duckCli } from '../helpers/release-cli.js';

interface Ctx {
  host: ChannelHost;
  ed25519: SshTestKey;
  rsa: SshTestKey;
  ecdsa: SshTestKey;
  scratch: string;
}

const Ssh = suite<Ctx>('channel ssh signatures', {} as Ctx);

Ssh.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-ssh-');
  ctx.ed25519 = await sshKey('alice', 'ed25519');
  ctx.rsa = await sshKey('bob', 'rsa');
  ctx.ecdsa = await sshKey('carol', 'ecdsa-p256');
  ctx.scratch = await makeTempDir('duck-ssh-scratch-');
});

Ssh.after(async (ctx) => {
  await ctx.host.close();
  for (const dir of [ctx.scratch, ...keyDirs]) await removeTempDir(dir);
});

const keyDirs: string[] = [];

/** makeSshKey, its directory removed after the suite. */
async function sshKey(name: string, type?: SshKeyType): Promise<SshTestKey> {
  const key = await makeSshKey(name, type);
  keyDirs.push(dirname(key.privateKeyFile));
  return key;
}

async function verify(node: AgentNode) {
  const r = await node.duck('verify', '--json');
  return { ...r, json: r.json ?? {} };
}

/** A release commit: a new shop version in production. */
async function release(ch: Channel, version: string): Promise<void> {
  await writeRelease(ch, 'shop', version);
  await writeGroup(ch, 'production', { shop: version });
}

Ssh('accepts commits git signed with ed25519, RSA and ECDSA P-256 SSH keys and reports the ssh-keygen fingerprint', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  // The key files are OpenSSH .pub lines, told apart from OpenPGP keys by content.
  await writeBasicChannel(ch, [ctx.ed25519, ctx.rsa, ctx.ecdsa]);
  await ch.commit('signers', ctx.host.rootKey);
  await ch.publish();
  assert.is((await verify(node)).code, 0);
  for (const [index, key] of [ctx.ed25519, ctx.rsa, ctx.ecdsa].entries()) {
    await release(ch, `1.${index + 1}.0`);
    const oid = await ch.commit(`shop 1.${index + 1}.0 by ${key.name}`, key);
    assert.match((await ch.signatureOf(oid))!, /^-----BEGIN SSH SIGNATURE-----\n/, 'git signed with ssh-keygen');
    await ch.publish();
    const r = await verify(node);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.json.commit, oid);
    assert.equal(r.json.signer, { name: key.name, fingerprint: key.fingerprint });
  }
  const status = await node.duck('status', '--json');
  const accepted = (status.json as { channel: { accepted: { signerName: string; signerFingerprint: string } } }).channel.accepted;
  assert.equal([accepted.signerName, accepted.signerFingerprint], [ctx.ecdsa.name, ctx.ecdsa.fingerprint]);
});

Ssh('accepts a channel with an OpenPGP signer and an inline (allowed_signers style) SSH signer', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  const bot = await makeOpenpgpKey('release-bot');
  await writeBasicChannel(ch, []);
  await ch.write('keys/release-bot.asc', bot.armoredPublicKey);
  await ch.write(
    'channel.yaml',
    stringify({
      version: 1,
      signers: [
        { name: 'release-bot', key: 'keys/release-bot.asc' },
        { name: 'alice', ssh: ctx.ed25519.armoredPublicKey.trim() },
      ],
    }),
  );
  await ch.commit('two kinds of signer', ctx.host.rootKey);
  await release(ch, '1.1.0');
  await ch.commit('by the bot', bot);
  await ch.publish();
  let r = await verify(node);
  assert.is(r.code, 0, r.stderr);
  assert.is((r.json.signer as { fingerprint: string }).fingerprint, bot.fingerprint);
  await release(ch, '1.2.0');
  const oid = await ch.commit('by alice', ctx.ed25519);
  await ch.publish();
  r = await verify(node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, oid);
  assert.equal(r.json.signer, { name: 'alice', fingerprint: ctx.ed25519.fingerprint });

  // The publisher's own checks read the same channel.yaml: `release verify` walks it as a node
  // does, and lint finds nothing to say about it (the fixture's releases list no images, which
  // lint reports on their own files).
  const local = await duckCli(ch.workDir, ['release', 'verify', '--json']);
  assert.is(local.code, 0, local.stdout + local.stderr);
  assert.equal(local.json?.signer, { name: 'alice', fingerprint: ctx.ed25519.fingerprint, source: 'agent' });
  assert.equal(await lintProblemsAt(ch, 'channel.yaml'), []);
  await ch.write('channel.yaml', stringify({ version: 2, signers: [{ name: 'alice', ssh: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA alice' }] }));
  const broken = await lintProblemsAt(ch, 'channel.yaml');
  assert.is(broken.length, 1, JSON.stringify(broken));
  assert.match(broken[0]!, /^4:10 \/signers\/0\/ssh: not an OpenSSH public key \(the public key is truncated\)/);
});

async function lintProblemsAt(ch: Channel, file: string): Promise<string[]> {
  const lint = await duckCli(ch.workDir, ['release', 'lint', '--json']);
  const problems = (lint.json?.problems ?? []) as Array<{ file: string; line: number; column: number; field: string; message: string }>;
  return problems.filter((p) => p.file === file).map((p) => `${p.line}:${p.column} ${p.field}: ${p.message}`);
}

Ssh('refuses a commit signed by an SSH key no policy lists with untrusted-signer naming its fingerprint', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  const stranger = await sshKey('stranger');
  // The stranger's comment (its e-mail) is alice's: identity is by key, never by comment.
  const impostor = { ...stranger, name: 'alice' };
  await writeBasicChannel(ch, [ctx.ed25519]);
  await ch.commit('signers', ctx.host.rootKey);
  await release(ch, '1.1.0');
  await ch.commit('by a stranger', impostor);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 3);
  assert.is(r.json.reason, 'untrusted-signer');
  assert.ok(String(r.json.message).includes(stranger.fingerprint), String(r.json.message));
});

Ssh('refuses a commit whose bytes changed after git signed it with bad-signature', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.ed25519]);
  await ch.commit('signers', ctx.host.rootKey);
  await release(ch, '1.1.0');
  const signed = await ch.commit('shop 1.1.0', ctx.ed25519);
  const raw = await ch.git('cat-file', 'commit', signed);
  assert.ok(raw.includes('\nshop 1.1.0'));
  const forged = (
    await run('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: ch.workDir, env: isolatedGitEnv(), input: raw.replace('\nshop 1.1.0', '\nshop 6.6.6') })
  ).stdout
    .toString('utf8')
    .trim();
  await ch.git('update-ref', 'refs/heads/main', forged);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 3);
  assert.is(r.json.reason, 'bad-signature');
  assert.match(String(r.json.message), /does not verify/);
});

Ssh('refuses a signature made with ssh-keygen -Y sign -n file (not the git namespace) with bad-signature', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.ed25519]);
  await ch.commit('signers', ctx.host.rootKey);
  await release(ch, '1.1.0');
  // git runs `ssh-keygen -Y sign -n git ...`; this wrapper signs the same bytes in namespace "file".
  const wrapper = join(ctx.scratch, 'sign-as-file');
  await writeFile(wrapper, '#!/bin/bash\nargs=()\nfor a in "$@"; do if [ "$a" = git ]; then args+=(file); else args+=("$a"); fi; done\nexec ssh-keygen "${args[@]}"\n');
  await chmod(wrapper, 0o755);
  await ch.commit('signed for files', ctx.ed25519, { sshProgram: wrapper });
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 3);
  assert.is(r.json.reason, 'bad-signature');
  assert.match(String(r.json.message), /namespace "file"/);
});

Ssh('refuses a commit by an SSH key that channel.yaml dropped at its parent', async (ctx) => {
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.ed25519, ctx.rsa]);
  await ch.commit('signers', ctx.host.rootKey);
  await ch.publish();
  assert.is((await verify(node)).code, 0);
  await writeChannelYaml(ch, { version: 2, signers: [ctx.rsa] });
  await ch.remove(`keys/${ctx.ed25519.name}.asc`);
  await ch.commit('retire alice', ctx.rsa);
  await release(ch, '1.1.0');
  await ch.commit('alice signs again', ctx.ed25519);
  await ch.publish();
  const r = await verify(node);
  assert.is(r.code, 3);
  assert.is(r.json.reason, 'untrusted-signer');
  assert.ok(String(r.json.message).includes(ctx.ed25519.fingerprint), String(r.json.message));
});

Ssh("accepts an SSH key as the agent's own root key (a .pub file in agent.yaml trust.keys)", async (ctx) => {
  const { ch, url } = await ctx.host.channel();
  const node = await makeAgentNode({ url, rootKeys: [ctx.ecdsa] });
  try {
    await writeBasicChannel(ch, [ctx.ed25519]);
    const oid = await ch.commit('first, by the root', ctx.ecdsa);
    await ch.publish();
    const r = await verify(node);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.json.commit, oid);
    assert.equal(r.json.signer, { name: ctx.ecdsa.name, fingerprint: ctx.ecdsa.fingerprint });
  } finally {
    await removeTempDir(node.dir);
  }
});

Ssh.run();
