// The test helpers are the ground every integration test stands on: the git server must speak the
// real protocol to both clients, and signed commits must verify with GnuPG itself, not only with
// the code under test.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import * as openpgp from 'openpgp';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createChannel, isolatedGitEnv, type Channel } from '../helpers/channel-builder.js';
import { startGitServer, type GitServer } from '../../examples/harness/git-http-server.js';
import {
  makeGpgKey,
  makeOpenpgpKey,
  makeVerifierHome,
  revokeOpenpgpKey,
  stopGpgAgent,
  type GpgTestKey,
  type OpenpgpTestKey,
} from '../../examples/harness/keys.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';

interface Ctx {
  root: string;
  server: GitServer;
  channel: Channel;
  alice: OpenpgpTestKey;
  bob: GpgTestKey;
  verifierHome: string;
  scratch: string[];
}

const test = suite<Ctx>('test-support', {} as Ctx);

test.before(async (ctx) => {
  ctx.scratch = [];
  ctx.root = await makeTempDir('duck-gitroot-');
  ctx.server = await startGitServer({ root: ctx.root });
  ctx.alice = await makeOpenpgpKey('Alice');
  ctx.bob = await makeGpgKey('Bob');
  ctx.verifierHome = await makeVerifierHome([ctx.alice, ctx.bob]);
  ctx.channel = await createChannel({ serverRoot: ctx.root });
  await ctx.channel.write('channel.yaml', 'version: 1\n');
  await ctx.channel.write('releases/shop/1.0.0/compose.yaml', 'services: {}\n');
  await ctx.channel.commit('initial release\n', ctx.alice);
  await ctx.channel.publish();
});

test.after(async (ctx) => {
  await ctx.server.close();
  await stopGpgAgent(ctx.bob.gnupgHome);
  await stopGpgAgent(ctx.verifierHome);
  await ctx.channel.dispose();
  for (const dir of [ctx.root, ctx.bob.gnupgHome, ctx.verifierHome, ...ctx.scratch]) await removeTempDir(dir);
});

async function scratchDir(ctx: Ctx): Promise<string> {
  const dir = await makeTempDir();
  ctx.scratch.push(dir);
  return dir;
}

function verifyCommit(ctx: Ctx, oid: string) {
  return run('git', ['verify-commit', '--raw', oid], {
    cwd: ctx.channel.workDir,
    env: isolatedGitEnv({ GNUPGHOME: ctx.verifierHome }),
    allowFailure: true,
  });
}

test('native git clones through the server', async (ctx) => {
  const dir = join(await scratchDir(ctx), 'clone');
  await run('git', ['clone', '--quiet', ctx.server.url('channel.git'), dir], { env: isolatedGitEnv() });
  const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: dir, env: isolatedGitEnv() })).stdout.toString().trim();
  assert.is(head, await ctx.channel.head());
  assert.is(await readFile(join(dir, 'channel.yaml'), 'utf8'), 'version: 1\n');
});

test('native git pushes through the server (receive-pack)', async (ctx) => {
  const dir = join(await scratchDir(ctx), 'clone');
  const env = isolatedGitEnv();
  await run('git', ['clone', '--quiet', ctx.server.url('channel.git'), dir], { env });
  await run('git', ['commit', '--quiet', '--allow-empty', '-m', 'pushed over http'], { cwd: dir, env });
  await run('git', ['push', '--quiet', 'origin', 'HEAD:refs/heads/pushed'], { cwd: dir, env });
  const local = (await run('git', ['rev-parse', 'HEAD'], { cwd: dir, env })).stdout.toString().trim();
  const remote = await run('git', ['rev-parse', 'refs/heads/pushed'], { cwd: ctx.channel.bareDir, env });
  assert.is(remote.stdout.toString().trim(), local);
  assert.ok(ctx.server.requests.some((r) => r.service === 'git-receive-pack' && r.method === 'POST' && r.status === 200));
});

test('isomorphic-git reads refs and fetches through the server', async (ctx) => {
  const info = await git.getRemoteInfo2({ http, url: ctx.server.url('channel.git'), protocolVersion: 1 });
  const main = info.refs?.find((r) => r.ref === 'refs/heads/main');
  assert.is(main?.oid, await ctx.channel.head());
  // The Git-Protocol header reaches http-backend: the default request gets a v2 advertisement.
  const v2 = await git.getRemoteInfo2({ http, url: ctx.server.url('channel.git') });
  assert.is(v2.protocolVersion, 2);

  const gitdir = await scratchDir(ctx);
  await git.init({ fs, gitdir, bare: true, defaultBranch: 'main' });
  await git.addRemote({ fs, gitdir, remote: 'origin', url: ctx.server.url('channel.git') });
  const result = await git.fetch({ fs, http, gitdir, remote: 'origin', ref: 'main', singleBranch: true, tags: false });
  assert.is(result.fetchHead, await ctx.channel.head());
  const { commit } = await git.readCommit({ fs, gitdir, oid: result.fetchHead ?? '' });
  assert.is(commit.message, 'initial release\n');
  assert.ok(commit.gpgsig?.startsWith('-----BEGIN PGP SIGNATURE-----'));
});

test('isomorphic-git clones through the server', async (ctx) => {
  const dir = await scratchDir(ctx);
  await git.clone({ fs, http, dir, url: ctx.server.url('channel.git'), ref: 'main', singleBranch: true });
  assert.is(await git.resolveRef({ fs, dir, ref: 'HEAD' }), await ctx.channel.head());
  assert.is(await readFile(join(dir, 'releases/shop/1.0.0/compose.yaml'), 'utf8'), 'services: {}\n');
});

test('the request log counts one ref advertisement per getRemoteInfo2', async (ctx) => {
  ctx.server.resetLog();
  await git.getRemoteInfo2({ http, url: ctx.server.url('channel.git'), protocolVersion: 1 });
  const adverts = ctx.server.requests.filter((r) => r.path === '/channel.git/info/refs' && r.service === 'git-upload-pack');
  assert.is(adverts.length, 1);
  assert.is(adverts[0]?.method, 'GET');
  assert.is(adverts[0]?.status, 200);
  assert.ok((adverts[0]?.bytesOut ?? 0) > 0);
});

test('a token-protected server refuses without the token and serves with it', async (ctx) => {
  const token = 's3cret-token';
  const server = await startGitServer({ root: ctx.root, token });
  try {
    const url = server.url('channel.git');
    const refused = await git.getRemoteInfo2({ http, url }).then(
      () => null,
      (err: unknown) => err as { code?: string; data?: { statusCode?: number } },
    );
    assert.is(refused?.code, 'HttpError');
    assert.is(refused?.data?.statusCode, 401);
    assert.is(server.requests[0]?.status, 401);

    const wrong = await git.getRemoteInfo2({ http, url, onAuth: () => ({ username: 'duck', password: 'nope' }), onAuthFailure: () => ({ cancel: true }) }).then(
      () => 'served',
      () => 'refused',
    );
    assert.is(wrong, 'refused');

    const info = await git.getRemoteInfo2({ http, url, protocolVersion: 1, onAuth: () => ({ username: 'duck', password: token }) });
    assert.ok(info.refs?.some((r) => r.ref === 'refs/heads/main'));

    const bearer = await http.request({ url: `${url}/info/refs?service=git-upload-pack`, headers: { Authorization: `Bearer ${token}` } });
    assert.is(bearer.statusCode, 200);

    const dir = join(await scratchDir(ctx), 'clone');
    const withCreds = url.replace('http://', `http://duck:${token}@`);
    await run('git', ['clone', '--quiet', withCreds, dir], { env: isolatedGitEnv() });
    const noCreds = await run('git', ['clone', '--quiet', url, `${dir}-2`], { env: isolatedGitEnv(), allowFailure: true });
    assert.is.not(noCreds.code, 0);
  } finally {
    await server.close();
  }
});

test('maxBytesPerResponse cuts a pack short and both clients fail the fetch', async (ctx) => {
  const big = await createChannel({ serverRoot: ctx.root, name: 'big' });
  // Random bytes do not compress, so the pack is surely larger than the limit.
  await big.write('image.tar', randomBytes(64 * 1024));
  await big.commit('big release\n', null);
  await big.publish();
  const server = await startGitServer({ root: ctx.root, maxBytesPerResponse: 16 * 1024 });
  try {
    const gitdir = await scratchDir(ctx);
    await git.init({ fs, gitdir, bare: true });
    await git.addRemote({ fs, gitdir, remote: 'origin', url: server.url('big.git') });
    const failed = await git.fetch({ fs, http, gitdir, remote: 'origin', ref: 'main', singleBranch: true }).then(
      () => false,
      () => true,
    );
    assert.ok(failed);
    const cut = server.requests.find((r) => r.truncated);
    assert.is(cut?.path, '/big.git/git-upload-pack');
    assert.is(cut?.bytesOut, 16 * 1024);

    const dir = join(await scratchDir(ctx), 'clone');
    const native = await run('git', ['clone', '--quiet', server.url('big.git'), dir], { env: isolatedGitEnv(), allowFailure: true });
    assert.is.not(native.code, 0);
  } finally {
    await server.close();
    await big.dispose();
  }
});

test('an openpgp.js-signed commit keeps CRLF, trailing spaces and UTF-8, and GnuPG verifies it', async (ctx) => {
  const message = 'Release shop 1.1.0  \r\n\r\nnotes: café ☕ 日本語 \r\ntrailing   \n';
  await ctx.channel.write('releases/shop/1.1.0/compose.yaml', 'services: {}\n');
  const oid = await ctx.channel.commit(message, ctx.alice, { date: new Date('2026-03-01T12:00:00Z') });
  const raw = await run('git', ['cat-file', 'commit', oid], { cwd: ctx.channel.workDir });
  assert.ok(raw.stdout.includes(Buffer.from(`\n\n${message}`, 'utf8')));
  assert.ok(raw.stdout.includes(Buffer.from('committer Alice <alice@test.invalid> 1772366400 +0000\n')));
  const verified = await verifyCommit(ctx, oid);
  assert.is(verified.code, 0, verified.stderr);
  assert.match(verified.stderr, `VALIDSIG ${ctx.alice.fingerprint}`);
  assert.ok((await ctx.channel.signatureOf(oid))?.startsWith('-----BEGIN PGP SIGNATURE-----\n\n'));
  assert.is(await ctx.channel.git('status', '--porcelain'), '');
});

test('a GnuPG-signed commit (git commit -S) verifies and keeps its message bytes', async (ctx) => {
  const message = 'Release shop 1.2.0 \r\nbody ü  \n';
  await ctx.channel.write('releases/shop/1.2.0/compose.yaml', 'services: {}\n');
  const oid = await ctx.channel.commit(message, ctx.bob, { date: new Date('2026-03-02T12:00:00Z') });
  const raw = await run('git', ['cat-file', 'commit', oid], { cwd: ctx.channel.workDir });
  assert.ok(raw.stdout.includes(Buffer.from(`\n\n${message}`, 'utf8')));
  assert.ok(raw.stdout.includes(Buffer.from('committer Bob <bob@test.invalid> 1772452800 +0000\n')));
  const verified = await verifyCommit(ctx, oid);
  assert.is(verified.code, 0, verified.stderr);
  assert.match(verified.stderr, `VALIDSIG ${ctx.bob.fingerprint}`);
});

test('an unsigned commit has no signature and does not verify', async (ctx) => {
  const oid = await ctx.channel.commit('unsigned change\n', null);
  assert.is(await ctx.channel.signatureOf(oid), null);
  assert.is.not((await verifyCommit(ctx, oid)).code, 0);
});

test('a signature moved to another commit fails git verify-commit', async (ctx) => {
  const signed = await ctx.channel.commit('signed original\n', ctx.alice);
  const signature = await ctx.channel.signatureOf(signed);
  assert.ok(signature);
  const moved = await ctx.channel.commitWithSignature('a different change\n', signature ?? '');
  assert.is(await ctx.channel.signatureOf(moved), signature);
  const verified = await verifyCommit(ctx, moved);
  assert.is.not(verified.code, 0);
  assert.match(verified.stderr, 'BADSIG');
});

test('revert makes a forward commit that restores the earlier tree', async (ctx) => {
  const before = (await ctx.channel.git('rev-parse', 'HEAD^{tree}')).trim();
  await ctx.channel.write('releases/shop/9.9.9/compose.yaml', 'services: {}\n');
  const bad = await ctx.channel.commit('bad release\n', ctx.alice);
  const revert = await ctx.channel.revert(bad, ctx.bob);
  assert.is((await ctx.channel.git('rev-parse', `${revert}^`)).trim(), bad);
  assert.is((await ctx.channel.git('rev-parse', 'HEAD^{tree}')).trim(), before);
  assert.is((await verifyCommit(ctx, revert)).code, 0);
});

test('force-publish after resetHard rewrites the served branch', async (ctx) => {
  await ctx.channel.publish();
  const older = (await ctx.channel.git('rev-parse', 'HEAD~2')).trim();
  await ctx.channel.resetHard(older);
  const rewritten = await ctx.channel.commit('rewritten history\n', ctx.alice);
  const plain = await ctx.channel.publish().then(
    () => 'pushed',
    () => 'rejected',
  );
  assert.is(plain, 'rejected');
  await ctx.channel.publish({ force: true });
  const info = await git.getRemoteInfo2({ http, url: ctx.server.url('channel.git'), protocolVersion: 1 });
  assert.is(info.refs?.find((r) => r.ref === 'refs/heads/main')?.oid, rewritten);
});

test('keys: fingerprints are 40 uppercase hex; revocation and expiry show in the public key', async () => {
  const key = await makeOpenpgpKey('Carol', { expiresInSeconds: 60, date: new Date(Date.now() - 3_600_000) });
  assert.match(key.fingerprint, /^[0-9A-F]{40}$/);
  const expired = await openpgp.readKey({ armoredKey: key.armoredPublicKey });
  assert.is(await expired.verifyPrimaryKey().then(() => 'valid', () => 'invalid'), 'invalid');

  const fresh = await makeOpenpgpKey('Dave');
  const revoked = await revokeOpenpgpKey(fresh);
  assert.is(revoked.fingerprint, fresh.fingerprint);
  const publicKey = await openpgp.readKey({ armoredKey: revoked.armoredPublicKey });
  assert.ok(await publicKey.isRevoked());
});

test.run();
