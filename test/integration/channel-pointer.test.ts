// DESIGN §4.5, reach: the tip pointer, mirrors and 429/Retry-After, through the real `duck verify`
// and `duck status` CLI against the real git smart-HTTP server (requests counted at the server),
// with the pointer served by a loopback file server.
import { writeFile, readFile, mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { readAgentState } from '../helpers/agent-state.js';
import type { ChannelHost, ServedChannel } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { publishBasicChannel, writeGroup } from '../helpers/channel-fixtures.js';
import type { FileServer } from '../helpers/file-server.js';
import { startFileServer } from '../helpers/file-server.js';
import { startDaemon } from '../../examples/harness/daemon.js';
import { startGitServer } from '../../examples/harness/git-http-server.js';

interface Ctx {
  host: ChannelHost;
  files: FileServer;
  filesRoot: string;
  count: number;
}

const Pointer = suite<Ctx>('channel pointer, mirrors and Retry-After', {} as Ctx);

Pointer.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-pointer-');
  ctx.filesRoot = await makeTempDir('duck-pointer-files-');
  ctx.files = await startFileServer({ root: ctx.filesRoot });
  ctx.count = 0;
});

Pointer.after(async (ctx) => {
  await ctx.files.close();
  await ctx.host.close();
  await removeTempDir(ctx.filesRoot);
});

interface PointedChannel extends ServedChannel {
  node: AgentNode;
  /** The pointer file's path on the file server. */
  pointer: string;
  setPointer(content: string): Promise<void>;
  /** Requests the git server saw for this channel. */
  gitRequests(): number;
}

/** A channel, a node following it with agent.yaml channel.pointer set, and the pointer file. */
async function pointed(ctx: Ctx): Promise<PointedChannel> {
  const served = await ctx.host.fresh();
  const pointer = `tips/${++ctx.count}.txt`;
  await mkdir(join(ctx.filesRoot, 'tips'), { recursive: true });
  await editConfig(served.node, (c) => (c.channel.pointer = ctx.files.url(pointer)));
  return {
    ...served,
    pointer,
    setPointer: (content) => writeFile(join(ctx.filesRoot, pointer), content),
    gitRequests: () => ctx.host.server.requests.filter((r) => r.path.startsWith(`/${served.name}.git/`)).length,
  };
}

async function editConfig(node: AgentNode, edit: (config: { channel: Record<string, unknown> }) => void): Promise<void> {
  const config = parse(await readFile(node.configFile, 'utf8')) as { channel: Record<string, unknown> };
  edit(config);
  await writeFile(node.configFile, stringify(config));
}

/**
 * A node's check. These nodes run no stacks: --allow-reset spares their first check the question
 * to Docker about what runs (what the state-lost rule asks); every other rule holds as it is.
 */
async function verify(node: AgentNode) {
  const r = await node.duck('verify', '--json', '--allow-reset');
  return { ...r, json: r.json ?? {} };
}

interface FetchFailureJson {
  reason: string;
  message: string;
  since: string;
  failures: number;
  at: string;
  nextTryAt: string;
}

async function fetchFailureOf(node: AgentNode): Promise<FetchFailureJson | null> {
  const r = await node.duck('status', '--json');
  assert.is(r.code, 0, r.stderr);
  return ((r.json?.channel as { fetchFailure: FetchFailureJson | null }).fetchFailure ?? null);
}

/** A pointer as a CDN serves it: an ETag, and 304 to a request that sends it back. */
async function etagPointer(id: string): Promise<{ url: string; seen: { conditional: boolean; status: number }[]; close(): Promise<void> }> {
  const seen: { conditional: boolean; status: number }[] = [];
  const tag = `"${id.slice(0, 16)}"`;
  const server: Server = createServer((req, res) => {
    const conditional = req.headers['if-none-match'] === tag;
    seen.push({ conditional, status: conditional ? 304 : 200 });
    if (conditional) res.writeHead(304, { ETag: tag }).end();
    else res.writeHead(200, { 'Content-Type': 'text/plain', ETag: tag }).end(`${id}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/tip`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** An HTTP server answering every request with `status` and `headers`: a throttling git host. */
async function answering(status: number, headers: Record<string, string>): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    res.writeHead(status, { 'Content-Type': 'text/plain', ...headers }).end('slow down\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/channel.git`, hits: () => hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

Pointer('a pointer naming the accepted commit: duck verify makes no request to the git server', async (ctx) => {
  const c = await pointed(ctx);
  const oid = await publishBasicChannel(c.ch, ctx.host.rootKey);
  await c.setPointer(`${oid}\n`);
  let r = await verify(c.node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, oid);
  assert.ok(c.gitRequests() > 0, 'the first check fetches the channel');

  ctx.host.server.resetLog();
  r = await verify(c.node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, oid);
  assert.is(c.gitRequests(), 0, 'no ref request, no pack request');
  assert.is(ctx.files.requestsFor(c.pointer).at(-1)?.status, 200);
});

Pointer('duck run polls the pointer conditionally (a 304 each time it is unchanged) and never the git host', async (ctx) => {
  const c = await pointed(ctx);
  await publishBasicChannel(c.ch, ctx.host.rootKey);
  // No app to run: the daemon only polls (this machine's Docker has no say in it).
  await writeGroup(c.ch, 'production', {});
  const oid = await c.ch.commit('no apps', ctx.host.rootKey);
  await c.ch.publish();
  const pointer = await etagPointer(oid);
  try {
    await editConfig(c.node, (config) => {
      config.channel.pointer = pointer.url;
      config.channel.interval = '1s';
    });
    assert.is((await verify(c.node)).code, 0);
    ctx.host.server.resetLog();
    pointer.seen.length = 0;
    const daemon = startDaemon(c.node);
    try {
      await daemon.waitFor((e) => e.event === 'start', 'the daemon started');
      for (let waited = 0; pointer.seen.length < 4 && waited < 60_000; waited += 250) await new Promise((resolve) => setTimeout(resolve, 250));
    } finally {
      await daemon.stop();
    }
    assert.ok(pointer.seen.length >= 4, `the daemon read the pointer ${pointer.seen.length} times: ${JSON.stringify(daemon.events.slice(-5))} ${daemon.stderr()}`);
    assert.equal(pointer.seen.slice(1), pointer.seen.slice(1).map(() => ({ conditional: true, status: 304 })));
    assert.is(c.gitRequests(), 0, 'the git host was not asked while the pointer stood still');
  } finally {
    await pointer.close();
  }
});

Pointer('a pointer behind a redirect (a Pages site on its own domain) is followed', async (ctx) => {
  const c = await pointed(ctx);
  const oid = await publishBasicChannel(c.ch, ctx.host.rootKey);
  await c.setPointer(oid);
  assert.is((await verify(c.node)).code, 0);
  const moved = await answering(301, { Location: ctx.files.url(c.pointer) });
  try {
    await editConfig(c.node, (config) => (config.channel.pointer = moved.url));
    ctx.host.server.resetLog();
    const r = await verify(c.node);
    assert.is(r.code, 0, r.stderr);
    assert.is(moved.hits(), 1);
    assert.is(c.gitRequests(), 0, 'the pointer was read through the redirect');
  } finally {
    await moved.close();
  }
});

Pointer('a pointer that moved: one fetch, and the new commit is accepted', async (ctx) => {
  const c = await pointed(ctx);
  const first = await publishBasicChannel(c.ch, ctx.host.rootKey);
  await c.setPointer(first);
  assert.is((await verify(c.node)).code, 0);

  await writeGroup(c.ch, 'production', { shop: '1.0.0' }, { urgent: true });
  const second = await c.ch.commit('urgent', ctx.host.rootKey);
  await c.ch.publish();
  await c.setPointer(`${second}\n`);
  ctx.host.server.resetLog();
  const r = await verify(c.node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, second);
  assert.is(r.json.changed, true);
  const seen = ctx.host.server.requests.filter((q) => q.path.startsWith(`/${c.name}.git/`));
  assert.equal(seen.map((q) => `${q.method} ${q.service}`), ['GET git-upload-pack', 'POST git-upload-pack']);
});

Pointer('a pointer naming an unsigned commit: refused with unsigned, the accepted commit unchanged', async (ctx) => {
  const c = await pointed(ctx);
  const good = await publishBasicChannel(c.ch, ctx.host.rootKey);
  await c.setPointer(good);
  assert.is((await verify(c.node)).code, 0);

  await writeGroup(c.ch, 'production', { shop: '1.0.0' }, { urgent: true });
  const unsigned = await c.ch.commit('unsigned', null);
  await c.ch.publish();
  await c.setPointer(unsigned);
  const r = await verify(c.node);
  assert.is(r.code, 3, r.stderr);
  assert.is(r.json.reason, 'unsigned');
  const state = await readAgentState(c.node.stateDir);
  assert.is(state.channel.anchor?.commit, good);
});

for (const [what, content] of [
  ['a malformed pointer', 'not a commit id\n'],
  ['an oversized pointer', `${'0'.repeat(40)}\n${'x'.repeat(4096)}`],
] as const) {
  Pointer(`${what} falls back to the git ref request, and the pointer's failure is shown`, async (ctx) => {
    const c = await pointed(ctx);
    const oid = await publishBasicChannel(c.ch, ctx.host.rootKey);
    await c.setPointer(content);
    const r = await verify(c.node);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.json.commit, oid);
    assert.ok(c.gitRequests() > 0, 'the git host answered instead');
    const failure = await fetchFailureOf(c.node);
    assert.ok(failure, 'duck status shows the pointer failure');
    assert.is(failure.reason, 'fetch');
    assert.match(failure.message, /tip pointer/);
    assert.ok(Date.parse(failure.nextTryAt) > Date.parse(failure.at), 'with when it tries again');
  });
}

Pointer('a pointer that stays broken: duck status counts one run of failures from when it began', async (ctx) => {
  const c = await pointed(ctx);
  await publishBasicChannel(c.ch, ctx.host.rootKey);
  await c.setPointer('not a commit id\n');
  assert.is((await verify(c.node)).code, 0);
  const first = await fetchFailureOf(c.node);
  assert.ok(first, 'the first check shows the pointer failure');
  // Each check is a new process: it falls back to the git host again, and accepts again.
  assert.is((await verify(c.node)).code, 0);
  const second = await fetchFailureOf(c.node);
  assert.ok(second);
  assert.is(second.failures, 2, 'the second failure of the same run');
  assert.is(second.since, first.since, 'the run began at the first failure');
});

Pointer('a primary git URL that is down: the mirror serves and the commit is accepted', async (ctx) => {
  const c = await pointed(ctx);
  const oid = await publishBasicChannel(c.ch, ctx.host.rootKey);
  await c.setPointer(oid);
  const down = await answering(502, {});
  await down.close();
  await editConfig(c.node, (config) => {
    config.channel.url = down.url;
    config.channel.mirrors = [c.url];
  });
  const r = await verify(c.node);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json.commit, oid);
  assert.ok(c.gitRequests() > 0, 'the mirror was asked');
});

Pointer('a mirror with its own tokenFile is sent its own token, not the primary one', async (ctx) => {
  const c = await pointed(ctx);
  const oid = await publishBasicChannel(c.ch, ctx.host.rootKey);
  const mirror = await startGitServer({ root: ctx.host.root, token: 'mirror-secret' });
  const down = await answering(503, {});
  try {
    await writeFile(join(c.node.dir, 'mirror-token'), 'mirror-secret\n');
    await editConfig(c.node, (config) => {
      config.channel.url = down.url;
      config.channel.token = 'primary-secret';
      config.channel.mirrors = [{ url: mirror.url(`${c.name}.git`), tokenFile: 'mirror-token' }];
      delete config.channel.pointer;
    });
    const r = await verify(c.node);
    assert.is(r.code, 0, r.stderr);
    assert.is(r.json.commit, oid);
    assert.is(down.hits(), 1, 'the primary was asked first');
    assert.ok(mirror.requests.length > 0);
    assert.ok(mirror.requests.every((q) => q.status === 200), 'the mirror accepted every request: it was sent its own token');
  } finally {
    await mirror.close();
    await down.close();
  }
});

Pointer('a 429 with Retry-After: 120 from the git host: the fetch failure is retried 120 s later', async (ctx) => {
  const c = await pointed(ctx);
  await publishBasicChannel(c.ch, ctx.host.rootKey);
  const busy = await answering(429, { 'Retry-After': '120' });
  try {
    await editConfig(c.node, (config) => {
      config.channel.url = busy.url;
      delete config.channel.pointer;
    });
    const r = await verify(c.node);
    assert.is(r.code, 1, r.stderr);
    assert.is(r.json.reason, 'fetch');
    assert.is(busy.hits(), 1);
    const failure = await fetchFailureOf(c.node);
    assert.ok(failure);
    assert.is(Date.parse(failure.nextTryAt) - Date.parse(failure.at), 120_000);
    assert.is((r.json.data as { nextTryAt: string }).nextTryAt, failure.nextTryAt, 'duck verify --json says when it tries again');
  } finally {
    await busy.close();
  }
});

Pointer.run();
