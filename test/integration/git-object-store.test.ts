// The object store the channel walk reads through (adapters/git-object-store.ts), against native
// git on real repositories: every object, loose, packed and deltified, reads as `git cat-file`
// prints it; the pack directory is listed once for a whole walk, not once per object.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openObjectStore } from '../../agent/src/adapters/git-object-store.js';
import { indexPack } from '../../agent/src/adapters/git-pack-index.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import type { Channel } from '../helpers/channel-builder.js';
import { createChannel } from '../helpers/channel-builder.js';

interface Ctx {
  root: string;
  ch: Channel;
  gitdir: string;
  /** `git cat-file --batch-check` of every object: id, type, size, delta base. */
  listed: Array<{ oid: string; type: string; size: number; deltaBase: string }>;
}

const Store = suite<Ctx>('git object store', {} as Ctx);

Store.before(async (ctx) => {
  ctx.root = await makeTempDir('duck-object-store-');
  ctx.ch = await createChannel({ serverRoot: ctx.root });
  const text = (n: number): string => Array.from({ length: 400 }, (_, i) => `line ${i} ${i % 7 === 0 ? n : ''}`).join('\n');
  for (let n = 0; n < 8; n++) {
    await ctx.ch.write('big.txt', text(n));
    await ctx.ch.write(`dir/file-${n}.txt`, `content ${n}\n`);
    await ctx.ch.commit(`commit ${n}`, null);
  }
  // Deep chains, as a hosted channel's packs have them; then one more commit left loose.
  await ctx.ch.git('repack', '-a', '-d', '-f', '--depth=50', '--window=50', '--quiet');
  await ctx.ch.write('loose.txt', 'written after the repack\n');
  await ctx.ch.commit('a loose commit', null);
  ctx.gitdir = join(ctx.ch.workDir, '.git');
  const lines = (await ctx.ch.git('cat-file', '--batch-all-objects', '--batch-check=%(objectname) %(objecttype) %(objectsize) %(deltabase)')).trim().split('\n');
  ctx.listed = lines.map((line) => {
    const [oid, type, size, deltaBase] = line.split(' ') as [string, string, string, string];
    return { oid, type, size: Number(size), deltaBase };
  });
});

Store.after(async (ctx) => {
  await ctx.ch.dispose();
  await removeTempDir(ctx.root);
});

Store('indexes a pack of deep delta chains into the very index git wrote for it', async (ctx) => {
  const packDir = join(ctx.gitdir, 'objects', 'pack');
  const name = readdirSync(packDir).find((n) => n.endsWith('.pack'))!;
  const idx = await indexPack(readFileSync(join(packDir, name)), { maxBytes: 1024 * 1024, source: 'the test' });
  assert.equal(Buffer.from(idx), readFileSync(join(packDir, name.replace(/\.pack$/, '.idx'))));
});

Store('reads every object, loose, packed and deltified, byte for byte as git cat-file does', async (ctx) => {
  assert.ok(ctx.listed.some((o) => !/^0+$/.test(o.deltaBase)), 'the repack made deltas');
  const store = openObjectStore(ctx.gitdir);
  for (const { oid, type } of ctx.listed) {
    const expected = Buffer.from(await ctx.ch.git('cat-file', type, oid), 'utf8');
    const object = store.read(oid);
    assert.ok(object, `${oid} is read`);
    assert.is(object.type, type, oid);
    if (type !== 'tree') assert.equal(Buffer.from(object.content), expected, oid);
  }
});

Store('reads the type and size of every object without listing the pack directory per object', async (ctx) => {
  let listings = 0;
  const store = openObjectStore(ctx.gitdir, { listDir: (dir) => (listings++, readdirSync(dir)) });
  for (const { oid, type, size } of ctx.listed) {
    assert.equal(store.sizeOf(oid), { type, size }, oid);
    assert.ok(store.read(oid), oid);
    assert.ok(store.has(oid), oid);
  }
  // Packs never change once written: one listing serves every object, loose ones included.
  assert.is(listings, 1, `${listings} listings for ${ctx.listed.length} objects`);
});

Store('finds a pack written after its listing, and answers null for an object that is nowhere', async (ctx) => {
  const store = openObjectStore(ctx.gitdir);
  const [first] = ctx.listed;
  assert.ok(store.read(first!.oid));
  await ctx.ch.write('later.txt', 'packed after the store listed its packs\n');
  const later = (await ctx.ch.commit('later', null)).trim();
  await ctx.ch.git('repack', '-d', '--quiet');
  assert.is(store.read(later)?.type, 'commit');
  assert.is(store.read('0123456789012345678901234567890123456789'), null);
  assert.not.ok(store.has('0123456789012345678901234567890123456789'));
});

Store.run();
