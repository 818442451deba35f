// DESIGN §3 bounds against a hostile server: every request to the channel has a total and an idle
// deadline. Driven through the real `duck verify --json` and `duck run` against a proxy in front of
// the real git smart-HTTP server that answers slowly, a byte at a time, or not at all.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { startDaemon } from '../../examples/harness/daemon.js';
import { readAgentState } from '../helpers/agent-state.js';
import type { ChannelHost, HostNodeOptions, ServedChannel } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { publishBasicChannel, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';
import type { HostileGitServer } from '../helpers/hostile-git-server.js';
import { startHostileGitServer } from '../helpers/hostile-git-server.js';

interface Ctx {
  host: ChannelHost;
  proxy: HostileGitServer;
}

const Deadlines = suite<Ctx>('channel fetch deadlines', {} as Ctx);

// Short deadlines so a hostile answer is cut within the test; the proxy trickles every 100 ms.
const SHORT = { fetchTimeout: '3s', fetchIdleTimeout: '1s' } as const;

Deadlines.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-deadlines-');
  ctx.proxy = await startHostileGitServer(ctx.host.server.baseUrl);
});

Deadlines.before.each((ctx) => {
  ctx.proxy.mode = 'pass';
});

Deadlines.after(async (ctx) => {
  await ctx.proxy.close();
  await ctx.host.close();
});

/** A channel with its first signed commit, and a node that follows it through the proxy. */
async function throughProxy(ctx: Ctx, opts: HostNodeOptions = {}): Promise<ServedChannel & { node: AgentNode; first: string }> {
  const served = await ctx.host.channel();
  const first = await publishBasicChannel(served.ch, ctx.host.rootKey);
  const node = await ctx.host.node(ctx.proxy.url(`${served.name}.git`), opts);
  return { ...served, node, first };
}

async function verify(node: AgentNode) {
  const r = await node.duck('verify', '--json');
  return { ...r, json: r.json ?? {} };
}

Deadlines('cuts a ref request whose server goes silent after the headers with fetch (idle deadline), then verifies through a good server', async (ctx) => {
  const { node, first } = await throughProxy(ctx, { limits: SHORT });
  ctx.proxy.mode = 'silent-refs';
  const cut = await verify(node);
  assert.is(cut.code, 1, cut.stderr);
  assert.is(cut.json.reason, 'fetch');
  const message = String(cut.json.message);
  assert.match(message, /no byte from the server for 1\.0s \(idle deadline, limits\.fetchIdleTimeout\)/);
  assert.ok(message.includes(ctx.proxy.url('')), message);

  ctx.proxy.mode = 'pass';
  const ok = await verify(node);
  assert.is(ok.code, 0, ok.stderr);
  assert.is(ok.json.commit, first);
});

Deadlines('cuts a pack download that trickles a byte at a time after 200 with fetch (total deadline), keeping nothing of it', async (ctx) => {
  const { ch, node, first } = await throughProxy(ctx, { limits: SHORT });
  assert.is((await verify(node)).json.commit, first);
  await writeRelease(ch, 'shop', '1.1.0');
  await writeGroup(ch, 'production', { shop: '1.1.0' });
  const second = await ch.commit('shop 1.1.0', ctx.host.rootKey);
  await ch.publish();

  ctx.proxy.mode = 'trickle-pack';
  const cut = await verify(node);
  assert.is(cut.code, 1, cut.stderr);
  assert.is(cut.json.reason, 'fetch');
  assert.match(String(cut.json.message), /git-upload-pack: not finished after 3\.0s \(total deadline, limits\.fetchTimeout\)/);
  assert.is((await readAgentState(node.stateDir)).channel.anchor?.commit, first);
  const gitdir = join(node.stateDir, 'channel.git');
  assert.not.ok(existsSync(join(gitdir, 'refs/remotes/origin/main')), 'the cut fetch left a remote-tracking ref');
  const packs = (await readdir(join(gitdir, 'objects', 'pack'))).filter((name) => name.endsWith('.pack'));
  assert.is(packs.length, 1, `only the first fetch's pack is kept: ${packs.join(', ')}`);

  ctx.proxy.mode = 'pass';
  const ok = await verify(node);
  assert.is(ok.code, 0, ok.stderr);
  assert.is(ok.json.commit, second);
});

Deadlines('keeps a slow but steady pack download that outlasts the idle deadline', async (ctx) => {
  // 8 pieces 300 ms apart: 2.4 s in all, never 1 s without a byte.
  const { node, first } = await throughProxy(ctx, { limits: { fetchTimeout: '30s', fetchIdleTimeout: '1s' } });
  ctx.proxy.mode = 'slow-pack';
  const ok = await verify(node);
  assert.is(ok.code, 0, ok.stderr);
  assert.is(ok.json.commit, first);
});

Deadlines('waits past Node’s own 5 s socket timeout for a server that prepares its pack in silence (default deadlines)', async (ctx) => {
  const { node, first } = await throughProxy(ctx);
  ctx.proxy.mode = 'pause-pack';
  const ok = await verify(node);
  assert.is(ok.code, 0, ok.stderr);
  assert.is(ok.json.commit, first);
});

Deadlines('duck run with a trickling channel ends its poll and answers an operator request', async (ctx) => {
  const { node } = await throughProxy(ctx, { limits: { fetchTimeout: '2s', fetchIdleTimeout: '1s' }, interval: '1h' });
  ctx.proxy.mode = 'trickle-refs';
  const daemon = startDaemon(node);
  try {
    await daemon.waitFor((e) => e.event === 'start', 'the daemon to start', { timeoutMs: 30_000 });
    // Handed to the daemon, which serves it once its first poll has ended: it fetches again and answers.
    const asked = node.duck('verify', '--json');
    const done = await daemon.waitFor((e) => e.event === 'request-done', 'the answer to duck verify', { timeoutMs: 30_000 });
    assert.is(done.kind, 'fetch');
    const r = await asked;
    assert.is(r.code, 1, r.stderr);
    assert.is(r.json?.reason, 'fetch');
  } finally {
    await daemon.stop();
  }
});

Deadlines.run();
