// DESIGN §3 bounds against a hostile server: an object's declared size is checked before it is
// inflated, so a refused object costs at most the cap (the memory figures are in `npm run bench`).
// Through the real `duck verify --json` against the real git smart-HTTP server, and object sizes
// read from real repositories written by native git.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openObjectStore } from '../../agent/src/adapters/git-object-store.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';
import { readAgentState } from '../helpers/agent-state.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { createChannel, isolatedGitEnv, startChannelHost } from '../helpers/channel-builder.js';
import { publishBasicChannel, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';

interface Ctx {
  host: ChannelHost;
}

const Bounds = suite<Ctx>('channel size bounds', {} as Ctx);

Bounds.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-size-bounds-');
});

Bounds.after(async (ctx) => {
  await ctx.host.close();
});

const CAP = 1024 * 1024;
// Zeros compress to almost nothing: the download passes limits.maxFetchBytes with ease.
const HUGE = Buffer.alloc(24 * 1024 * 1024);
const HUGE_FILE = 'releases/shop/2.0.0/compose.yaml';

Bounds('refuses a download holding a huge zero blob with too-large before it is inflated, naming the blob', async (ctx) => {
  const { ch, node } = await ctx.host.fresh({ limits: { maxFileBytes: CAP } });
  const first = await publishBasicChannel(ch, ctx.host.rootKey);
  assert.is((await node.duck('verify', '--json')).code, 0);
  await writeRelease(ch, 'shop', '2.0.0', { 'compose.yaml': HUGE });
  await writeGroup(ch, 'production', { shop: '2.0.0' });
  const tip = await ch.commit('a huge compose file', ctx.host.rootKey);
  await ch.publish();
  const blob = (await ch.git('rev-parse', `HEAD:${HUGE_FILE}`)).trim();

  const r = await node.duck('verify', '--json');
  assert.is(r.code, 3, r.stderr);
  assert.is(r.json?.reason, 'too-large');
  const message = String(r.json?.message);
  assert.ok(message.includes(`blob ${blob} of ${HUGE.length} bytes`), message);
  assert.ok(message.includes('refused before it was inflated'), message);
  assert.is((r.json?.data as { tip?: string }).tip, tip);
  const state = await readAgentState(node.stateDir);
  assert.is(state.channel.anchor?.commit, first);
  assert.is(state.channel.lastRefusal?.reason, 'too-large');
  const packs = await readdir(join(node.stateDir, 'channel.git', 'objects', 'pack'));
  assert.is(packs.filter((p) => p.endsWith('.pack')).length, 1, `only the first fetch's pack is kept: ${packs.join(', ')}`);
});

Bounds('refuses a blob over the cap by its declared size, naming the file, in a clone an earlier agent left', async (ctx) => {
  const { ch, node } = await ctx.host.fresh({ limits: { maxFileBytes: CAP } });
  await publishBasicChannel(ch, ctx.host.rootKey);
  await writeRelease(ch, 'shop', '2.0.0', { 'compose.yaml': HUGE });
  await writeGroup(ch, 'production', { shop: '2.0.0' });
  await ch.commit('a huge compose file', ctx.host.rootKey);
  await ch.publish();
  // Native git writes the clone (a pack and its index), as a fetch before this check existed did.
  await run('git', ['clone', '--bare', '--quiet', ch.bareDir, join(node.stateDir, 'channel.git')], { env: isolatedGitEnv() });

  const r = await node.duck('verify', '--json');
  assert.is(r.code, 3, r.stderr);
  assert.is(r.json?.reason, 'too-large');
  assert.equal(r.json?.data, { file: HUGE_FILE, size: HUGE.length, tip: await ch.head() });
});

Bounds('reads the type and size of every object, loose, packed and deltified, as git cat-file does', async () => {
  const root = await makeTempDir('duck-object-sizes-');
  try {
    const ch = await createChannel({ serverRoot: root });
    const text = (n: number): string => Array.from({ length: 400 }, (_, i) => `line ${i} ${i % 7 === 0 ? n : ''}`).join('\n');
    for (let n = 0; n < 6; n++) {
      await ch.write('big.txt', text(n));
      await ch.write(`dir/file-${n}.txt`, `content ${n}\n`);
      await ch.commit(`commit ${n}`, null);
    }
    await ch.git('repack', '-a', '-d', '-f', '--depth=50', '--window=50', '--quiet');
    await ch.write('loose.txt', 'written after the repack\n');
    await ch.commit('a loose commit', null);
    const gitdir = join(ch.workDir, '.git');
    const listed = (await ch.git('cat-file', '--batch-all-objects', '--batch-check=%(objectname) %(objecttype) %(objectsize) %(deltabase)')).trim().split('\n');
    assert.ok(listed.some((line) => !line.endsWith(' 0000000000000000000000000000000000000000')), 'the repack made deltas');
    const store = openObjectStore(gitdir);
    for (const line of listed) {
      const [oid, type, size] = line.split(' ') as [string, string, string];
      assert.equal(store.sizeOf(oid), { type, size: Number(size) }, oid);
    }
    await ch.dispose();
  } finally {
    await removeTempDir(root);
  }
});

Bounds.run();
