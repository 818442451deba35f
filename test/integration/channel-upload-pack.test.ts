// The node's own smart-HTTP fetch (adapters/upload-pack.ts, issue 13) against the real git server
// (`git http-backend`), and through a proxy whose upload-pack answers are not git's: what a fetch
// downloads, in how many requests, and that an answer it cannot use leaves the clone as it was.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openGitChannel } from '../../agent/src/adapters/git-channel.js';
import { toDuckError } from '../../schemas/errors.js';
import type { ChannelTransport } from '../../agent/src/ports.js';
import { startGitServer } from '../../examples/harness/git-http-server.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import type { ChannelHost, ServedChannel } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import type { HostileGitServer, HostileMode } from '../helpers/hostile-git-server.js';
import { SIDEBAND_ERROR, startHostileGitServer } from '../helpers/hostile-git-server.js';

interface Ctx {
  host: ChannelHost;
  proxy: HostileGitServer;
  dirs: string[];
}

const Fetch = suite<Ctx>('the node fetches the channel with its own upload-pack client', {} as Ctx);

Fetch.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-upload-pack-');
  ctx.proxy = await startHostileGitServer(ctx.host.server.baseUrl);
  ctx.dirs = [];
});

Fetch.before.each((ctx) => {
  ctx.proxy.mode = 'pass';
});

Fetch.after(async (ctx) => {
  await ctx.proxy.close();
  await ctx.host.close();
  for (const dir of ctx.dirs) await removeTempDir(dir);
});

/** A channel of a few commits, and a transport with an empty clone that follows it, through the proxy when asked. */
async function channelAndClone(ctx: Ctx, via: 'server' | 'proxy' | { url: (name: string) => string } = 'server'): Promise<ServedChannel & { transport: ChannelTransport; gitdir: string }> {
  const served = await ctx.host.channel();
  for (let n = 0; n < 5; n++) {
    await served.ch.write('groups/production.yaml', `apps:\n  shop: 1.${n}.0\n`);
    await served.ch.write(`apps/shop/1.${n}.0/compose.yaml`, `services:\n  web:\n    image: shop:1.${n}.0\n${'# padding\n'.repeat(200 + n)}`);
    await served.ch.commit(`shop 1.${n}.0`, null);
  }
  await served.ch.publish();
  const dir = await makeTempDir('duck-upload-pack-node-');
  ctx.dirs.push(dir);
  const gitdir = join(dir, 'channel.git');
  const url = via === 'proxy' ? ctx.proxy.url(`${served.name}.git`) : via === 'server' ? served.url : via.url(served.name);
  const transport = openGitChannel({
    url,
    branch: 'main',
    gitdir,
    maxFetchBytes: 64 * 1024 * 1024,
    maxObjectBytes: 8 * 1024 * 1024,
    deadlines: { totalMs: 30_000, idleMs: 10_000 },
    version: async () => '0.0.0-test',
  });
  return { ...served, url, transport, gitdir };
}

/** What the clone holds: its pack files and branch ref. */
async function cloneState(gitdir: string): Promise<{ packs: string[]; ref: string | null }> {
  const packs = existsSync(join(gitdir, 'objects', 'pack')) ? (await readdir(join(gitdir, 'objects', 'pack'))).sort() : [];
  const ref = await readFile(join(gitdir, 'refs', 'heads', 'main'), 'utf8').catch(() => null);
  return { packs, ref };
}

const packRequests = (ctx: Ctx) => ctx.host.server.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/git-upload-pack'));

Fetch('a new tip costs two requests (the ref request and one upload-pack); the next fetch sends only the new objects', async (ctx) => {
  const { ch, transport, gitdir } = await channelAndClone(ctx);
  ctx.host.server.resetLog();
  const first = await transport.remoteTip();
  assert.is(await transport.fetch(), first);
  assert.is(ctx.host.server.requests.length, 2, ctx.host.server.requests.map((r) => `${r.method} ${r.path}`).join(', '));
  const firstBytes = packRequests(ctx)[0]!.bytesOut;
  assert.ok(await transport.objects.has(first));
  assert.is((await cloneState(gitdir)).ref, `${first}\n`);

  await ch.write('groups/production.yaml', 'apps:\n  shop: 1.4.0\n# one more line\n');
  const second = await ch.commit('one small change', null);
  await ch.publish();
  ctx.host.server.resetLog();
  assert.is(await transport.remoteTip(), second);
  assert.is(await transport.fetch(), second);
  assert.is(ctx.host.server.requests.length, 2);
  const secondBytes = packRequests(ctx)[0]!.bytesOut;
  // The clone's tip went as a `have`: the answer holds one commit, its tree and one blob.
  assert.ok(secondBytes * 4 < firstBytes, `second pack ${secondBytes} bytes, first ${firstBytes}`);
  assert.ok((await transport.objects.has(second)) && (await transport.objects.has(first)));
  assert.is((await cloneState(gitdir)).packs.filter((p) => p.endsWith('.pack')).length, 2);
  // git reads the clone the node wrote.
  assert.is((await ch.git('--git-dir', gitdir, 'rev-parse', 'main')).trim(), second);
});

Fetch('a fetch without a ref request before it asks for the refs itself; after reset() it downloads everything again', async (ctx) => {
  const { transport, gitdir } = await channelAndClone(ctx);
  const tip = await transport.fetch();
  assert.ok(await transport.objects.has(tip));
  await transport.reset();
  assert.not.ok(existsSync(gitdir));
  assert.not.ok(await transport.objects.has(tip));
  ctx.host.server.resetLog();
  assert.is(await transport.fetch(), tip);
  assert.ok(await transport.objects.has(tip));
  assert.is(ctx.host.server.requests.length, 2);
});

Fetch('credentials in the URL go as Basic auth with both requests, never in the URL sent, with no 401 round trip', async (ctx) => {
  const server = await startGitServer({ root: ctx.host.root, token: 'url-secret' });
  try {
    const { transport } = await channelAndClone(ctx, { url: (name) => server.url(`${name}.git`).replace('http://', 'http://duck:url-secret@') });
    const tip = await transport.fetch();
    assert.ok(await transport.objects.has(tip));
    assert.equal(server.requests.map((r) => `${r.method} ${r.status}`), ['GET 200', 'POST 200']);
  } finally {
    await server.close();
  }
});

/** Fetches once through the proxy in pass mode, adds a commit, then fetches in `mode`: the error, and the clone before and after. */
async function failedFetch(ctx: Ctx, mode: HostileMode) {
  const served = await channelAndClone(ctx, 'proxy');
  const first = await served.transport.fetch();
  await served.ch.write('groups/production.yaml', 'apps:\n  shop: 1.1.0\n');
  const second = await served.ch.commit('back to 1.1.0', null);
  await served.ch.publish();
  const before = await cloneState(served.gitdir);
  ctx.proxy.mode = mode;
  const err = await served.transport.fetch().then(
    () => null,
    (e: unknown) => toDuckError(e),
  );
  const after = await cloneState(served.gitdir);
  ctx.proxy.mode = 'pass';
  return { ...served, err, before, after, first, second };
}

async function assertClonePutBack(r: Awaited<ReturnType<typeof failedFetch>>): Promise<void> {
  assert.equal(r.after, r.before, 'the clone is as it was: no pack kept, no ref moved');
  assert.is(r.after.ref, `${r.first}\n`);
  assert.not.ok(await r.transport.objects.has(r.second));
}

Fetch('a side-band error from the server fails the fetch with fetch, quoting the server; the clone is as it was', async (ctx) => {
  const r = await failedFetch(ctx, 'error-pack');
  assert.ok(r.err, 'the fetch failed');
  assert.is(r.err.code, 'fetch');
  assert.ok(r.err.message.includes(`the git server stopped the fetch: ${SIDEBAND_ERROR}`), r.err.message);
  assert.ok(r.err.message.includes(r.url), r.err.message);
  await assertClonePutBack(r);
  assert.is(await r.transport.fetch(), r.second, 'the next fetch through a good server succeeds');
});

Fetch('an answer cut in the middle of the pack fails the fetch with fetch (unreadable); the clone is as it was', async (ctx) => {
  const r = await failedFetch(ctx, 'half-pack');
  assert.ok(r.err, 'the fetch failed');
  assert.is(r.err.code, 'fetch');
  assert.match(r.err.message, /the git server's answer to the fetch is unreadable: .*(ends inside a packet|no closing flush)/);
  await assertClonePutBack(r);
});

Fetch('a sign-in page instead of the upload-pack answer fails the fetch with fetch, naming what came', async (ctx) => {
  const r = await failedFetch(ctx, 'login-pack');
  assert.ok(r.err, 'the fetch failed');
  assert.is(r.err.code, 'fetch');
  assert.ok(r.err.message.includes('unreadable: its answer is "text/html", not application/x-git-upload-pack-result'), r.err.message);
  await assertClonePutBack(r);
});

/** A server that answers every request with a redirect to `target(path)`, and logs what it saw. */
async function redirector(target: (path: string) => string) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ? 'auth' : 'no-auth'}`);
    res.writeHead(301, { Location: target(req.url ?? '/') }).end();
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, seen, close: () => new Promise<void>((done) => server.close(() => done())) };
}

Fetch('a redirected ref request is followed as git follows it: the upload-pack goes to the new repository, with no credentials for another origin', async (ctx) => {
  const moved = await redirector((path) => `${ctx.host.server.baseUrl}${path.replace(/^\/moved/, '')}`);
  try {
    const { transport } = await channelAndClone(ctx, { url: (name) => `${moved.base.replace('http://', 'http://duck:old-secret@')}/moved/${name}.git` });
    ctx.host.server.resetLog();
    const tip = await transport.remoteTip();
    assert.is(await transport.fetch(), tip);
    assert.ok(await transport.objects.has(tip));
    // The old address saw only the ref request (with its credentials); the new one the ref request and the upload-pack, with none.
    assert.is(moved.seen.length, 1, moved.seen.join(', '));
    assert.match(moved.seen[0]!, /^GET \/moved\/.*\/info\/refs\?service=git-upload-pack auth$/);
    assert.equal(ctx.host.server.requests.map((r) => `${r.method} ${r.status}`), ['GET 200', 'POST 200']);
  } finally {
    await moved.close();
  }
});

Fetch('a redirect that is not to a ref advertisement, or an endless chain of them, fails the fetch naming it; nothing is downloaded', async (ctx) => {
  const elsewhere = await redirector(() => 'https://login.example.invalid/sign-in');
  const loop = await redirector((path) => path);
  try {
    for (const [server, expected] of [
      [elsewhere, /redirected .* to https:\/\/login\.example\.invalid\/sign-in, which is not a git repository's ref advertisement/],
      [loop, /more than 5 redirects/],
    ] as const) {
      const { transport, gitdir } = await channelAndClone(ctx, { url: (name) => `${server.base}/${name}.git` });
      const err = await transport.fetch().then(
        () => null,
        (e: unknown) => toDuckError(e),
      );
      assert.ok(err, 'the fetch failed');
      assert.is(err.code, 'fetch');
      assert.match(err.message, expected);
      assert.equal((await cloneState(gitdir)).packs, []);
    }
    assert.is(loop.seen.length, 6, 'the first request and 5 redirects followed');
  } finally {
    await elsewhere.close();
    await loop.close();
  }
});

Fetch.run();
