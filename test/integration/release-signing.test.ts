// Commits a publisher makes with `duck release commit` (openpgp.js key, or GnuPG with -S) and
// `duck release sign` (a re-signed `git revert`), judged by the agent: in-process by its trust
// code, and end to end by `duck verify` fetching the channel over a real git smart-HTTP server.
import { join } from 'node:path';
import { readFile, stat, writeFile } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeAgentNode } from '../../examples/harness/agent-node.js';
import type { GitServer } from '../../examples/harness/git-http-server.js';
import { startGitServer } from '../../examples/harness/git-http-server.js';
import type { GpgTestKey, OpenpgpTestKey } from '../../examples/harness/keys.js';
import { gpg, makeGpgKey, makeOpenpgpKey, makeVerifierHome, stopGpgAgent, testEmail } from '../../examples/harness/keys.js';
import { agentAccepts, duckCli, gitIn, writeKeyFile } from '../helpers/release-cli.js';
import { rejection } from '../helpers/rejection.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';

interface Ctx {
  root: string;
  server: GitServer;
  key: OpenpgpTestKey;
  keyFile: string;
  gpgKey: GpgTestKey;
  count: number;
}

const Signing = suite<Ctx>('duck release commit and sign', {} as Ctx);

Signing.before(async (ctx) => {
  ctx.root = await makeTempDir('duck-release-sign-');
  ctx.server = await startGitServer({ root: join(ctx.root, 'served') });
  ctx.key = await makeOpenpgpKey('release-bot');
  ctx.keyFile = await writeKeyFile(ctx.root, ctx.key);
  ctx.gpgKey = await makeGpgKey('maintainer');
  ctx.count = 0;
});
Signing.after(async (ctx) => {
  await ctx.server.close();
  await stopGpgAgent(ctx.gpgKey.gnupgHome);
  await removeTempDir(ctx.root);
});

async function channel(ctx: Ctx): Promise<string> {
  const dir = join(ctx.root, `channel-${++ctx.count}`);
  const r = await duckCli(ctx.root, ['release', 'init', dir, '--key', ctx.keyFile]);
  assert.is(r.code, 0, r.stderr);
  return dir;
}

async function promote(dir: string, version: string): Promise<void> {
  const r = await duckCli(dir, ['release', 'promote', 'production', `hello@${version}`]);
  assert.is(r.code, 0, r.stderr);
}

Signing('commit --key signs with openpgp.js, and the agent accepts the new tip', async (ctx) => {
  const dir = await channel(ctx);
  await promote(dir, '1.1.0');
  const r = await duckCli(dir, ['release', 'commit', '-m', 'Promote hello 1.1.0 to production', '--key', ctx.keyFile, '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json?.signedWith, 'openpgp.js');
  const chain = await agentAccepts(dir, [ctx.key]);
  assert.is(chain.accepted.commit, r.json?.commit);
  assert.is(chain.accepted.signer.fingerprint, ctx.key.fingerprint);
  assert.is(await gitIn(dir, ['status', '--porcelain']), '', 'everything was staged and committed');
});

Signing('commit takes a passphrase-protected key from DUCK_SIGNING_KEY with --passphrase-env', async (ctx) => {
  const dir = await channel(ctx);
  const locked = await openpgp.encryptKey({ privateKey: await openpgp.readPrivateKey({ armoredKey: ctx.key.armoredPrivateKey }), passphrase: 'quack' });
  await promote(dir, '1.1.0');
  const env = { DUCK_SIGNING_KEY: locked.armor(), BOT_PASSPHRASE: 'quack' };
  const missing = await duckCli(dir, ['release', 'commit', '-m', 'promote'], { DUCK_SIGNING_KEY: locked.armor() });
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /protected by a passphrase: pass --passphrase-env/);
  const r = await duckCli(dir, ['release', 'commit', '-m', 'promote', '--passphrase-env', 'BOT_PASSPHRASE'], env);
  assert.is(r.code, 0, r.stderr);
  assert.is((await agentAccepts(dir, [ctx.key])).accepted.signer.fingerprint, ctx.key.fingerprint);
});

Signing('commit -S signs with GnuPG, and the agent accepts it once channel.yaml lists the maintainer', async (ctx) => {
  const dir = await channel(ctx);
  await writeFile(join(dir, 'keys/maintainer.asc'), ctx.gpgKey.armoredPublicKey);
  await editChannel(dir, (t) => t.replace(/^version: 1$/m, 'version: 2').replace(/^freshness:/m, '  - { name: maintainer, key: keys/maintainer.asc }\nfreshness:'));
  assert.is((await duckCli(dir, ['release', 'commit', '-m', 'Add the maintainer as a signer', '--key', ctx.keyFile])).code, 0);
  await promote(dir, '1.1.0');
  const identity = { GIT_COMMITTER_NAME: 'maintainer', GIT_COMMITTER_EMAIL: testEmail('maintainer'), GIT_AUTHOR_NAME: 'maintainer', GIT_AUTHOR_EMAIL: testEmail('maintainer') };
  const r = await duckCli(dir, ['release', 'commit', '-m', 'Promote hello 1.1.0', '-S', '--json'], { ...identity, GNUPGHOME: ctx.gpgKey.gnupgHome });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json?.signedWith, 'gnupg');
  const chain = await agentAccepts(dir, [ctx.key]);
  assert.is(chain.accepted.commit, await gitIn(dir, ['rev-parse', 'HEAD']));
  assert.is(chain.accepted.signer.fingerprint, ctx.gpgKey.fingerprint);
});

Signing('sign re-signs a git revert (same tree, parents, author, message) and duck verify accepts it over smart HTTP', async (ctx) => {
  const dir = await channel(ctx);
  const bare = join(ctx.server.root, `sign-${ctx.count}.git`);
  await gitIn(ctx.root, ['init', '--bare', '--quiet', '--initial-branch=main', bare]);
  await gitIn(dir, ['remote', 'add', 'origin', bare]);
  const node = await makeAgentNode({ url: ctx.server.url(`sign-${ctx.count}.git`), rootKeys: [ctx.key], group: 'production' });

  await promote(dir, '1.1.0');
  assert.is((await duckCli(dir, ['release', 'commit', '-m', 'Promote hello 1.1.0', '--key', ctx.keyFile])).code, 0);
  await gitIn(dir, ['push', '--quiet', 'origin', 'main']);
  assert.is((await node.duck('verify', '--json')).code, 0);

  await gitIn(dir, ['revert', '--no-edit', 'HEAD']);
  const unsigned = await gitIn(dir, ['rev-parse', 'HEAD']);
  assert.is((await rejection(agentAccepts(dir, [ctx.key]))).code, 'unsigned');
  const r = await duckCli(dir, ['release', 'sign', '--key', ctx.keyFile, '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json?.previous, unsigned);
  const signed = String(r.json?.commit);
  assert.is(await gitIn(dir, ['rev-parse', 'HEAD']), signed);
  const shape = (oid: string) => gitIn(dir, ['show', '-s', '--format=%T %P %an <%ae> %ad %cn %cd%n%B', oid]);
  assert.is(await shape(signed), await shape(unsigned));

  await gitIn(dir, ['push', '--quiet', 'origin', 'main']);
  const v = await node.duck('verify', '--json');
  assert.is(v.code, 0, v.stderr);
  assert.is(v.json?.commit, signed);
  assert.equal(v.json?.signer, { name: 'release-bot', fingerprint: ctx.key.fingerprint });
  const check = await duckCli(dir, ['release', 'verify', '--json']);
  assert.is(check.code, 0, check.stderr);
  assert.equal((check.json?.groups as Record<string, unknown>).production, { hello: '1.0.0' });
  await removeTempDir(node.dir);
});

Signing('sign refuses while tracked files have uncommitted changes', async (ctx) => {
  const dir = await channel(ctx);
  await promote(dir, '1.1.0');
  const head = await gitIn(dir, ['rev-parse', 'HEAD']);
  const r = await duckCli(dir, ['release', 'sign', '--key', ctx.keyFile]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /uncommitted changes \(groups\/production\.yaml\)/);
  assert.is(await gitIn(dir, ['rev-parse', 'HEAD']), head);
});

Signing('release verify refuses an unsigned tip with exit 3 and reason unsigned', async (ctx) => {
  const dir = await channel(ctx);
  await promote(dir, '1.1.0');
  const c = await duckCli(dir, ['release', 'commit', '-m', 'unsigned promotion']);
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stderr, /warning: the commit is unsigned/);
  const r = await duckCli(dir, ['release', 'verify', '--json']);
  assert.is(r.code, 3);
  assert.is(r.json?.reason, 'unsigned');
});

Signing('release keygen writes a 0600 private key that release init signs with, a public key GnuPG imports, and never overwrites', async (ctx) => {
  const dir = join(ctx.root, `keygen-${++ctx.count}`);
  const keyDir = join(ctx.root, `keygen-${ctx.count}-keys`);
  const privateKey = join(keyDir, 'ops-bot.key.asc');
  const r = await duckCli(ctx.root, ['release', 'keygen', 'ops-bot', '--output', privateKey, '--email', 'ops@example.com', '--json']);
  assert.is(r.code, 0, r.stderr);
  const fingerprint = String(r.json?.fingerprint);
  const publicKey = join(keyDir, 'ops-bot.asc');
  assert.equal(r.json, { ok: true, name: 'ops-bot', fingerprint, privateKey, publicKey, signerEntry: { name: 'ops-bot', key: 'keys/ops-bot.asc' } });
  assert.is((await stat(privateKey)).mode & 0o777, 0o600, 'only its owner reads the private key');
  assert.is((await stat(keyDir)).mode & 0o777, 0o700, 'the directory it made is its owner\'s alone');
  const armoredPublicKey = await readFile(publicKey, 'utf8');

  const made = { kind: 'openpgp', name: 'ops-bot', fingerprint, armoredPublicKey } as const;
  const home = await makeVerifierHome([made]);
  const listing = (await gpg(home, ['--with-colons', '--list-keys'])).stdout.toString('utf8');
  assert.match(listing, new RegExp(`^fpr:+${fingerprint}:`, 'm'), 'GnuPG imports it under the same fingerprint');
  await stopGpgAgent(home);

  const init = await duckCli(ctx.root, ['release', 'init', dir, '--key', privateKey, '--json']);
  assert.is(init.code, 0, init.stderr);
  assert.is(init.json?.fingerprint, fingerprint);
  const chain = await agentAccepts(dir, [made]);
  assert.is(chain.accepted.signer.fingerprint, fingerprint);

  const again = await duckCli(ctx.root, ['release', 'keygen', 'ops-bot', '--output', privateKey]);
  assert.is(again.code, 2, again.stderr);
  assert.match(again.stderr, /already exists; nothing was written/);
  assert.is(await readFile(publicKey, 'utf8'), armoredPublicKey, 'the public key is left as it was');
});

async function editChannel(dir: string, change: (text: string) => string): Promise<void> {
  const file = join(dir, 'channel.yaml');
  await writeFile(file, change(await readFile(file, 'utf8')));
}

Signing.run();
