// The commit tree's index and the verified-content cache, on git objects held in memory (real
// object ids, a counting GitObjects port): what is read, how often, and what is still refused.
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { openCommitTree } from '../../agent/src/channel/commit-tree.js';
import { readChannelContent } from '../../agent/src/channel/read-release.js';
import { MemoryObjects } from '../helpers/memory-objects.js';
import type { DuckError } from '../../schemas/errors.js';

const LIMITS = { maxFileBytes: 1024 * 1024, maxReleaseFiles: 1000 };


const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function release(app: string, version: string, files: Record<string, string>): Record<string, string> {
  const dir = `releases/${app}/${version}`;
  const out: Record<string, string> = {};
  for (const [path, content] of Object.entries(files)) out[`${dir}/${path}`] = content;
  out[`${dir}/release.yaml`] = stringify({ app, version, files: Object.fromEntries(Object.entries(files).map(([p, c]) => [p, sha256(c)])) });
  return out;
}

function channel(apps: Record<string, string>, releases: Array<Record<string, string>>): Record<string, string> {
  return {
    'channel.yaml': stringify({ version: 1, signers: [{ name: 'bot', key: 'keys/bot.asc' }] }),
    'groups/production.yaml': stringify({ apps }),
    ...Object.assign({}, ...releases),
  };
}

function manyFiles(count: number, dirs: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`conf/d${i % dirs}/f${i}.txt`, `file ${i}\n`]));
}

async function refusal(body: () => Promise<unknown>): Promise<DuckError> {
  try {
    await body();
  } catch (err) {
    return err as DuckError;
  }
  throw new Error('expected a refusal');
}

test('finds blobs and trees by path; a missing path, or one through a file, is null', async () => {
  const repo = new MemoryObjects();
  const root = repo.files({ 'a/b/c.txt': 'c', 'a/d.txt': 'd', 'e.txt': 'e' });
  const tree = openCommitTree(repo.port, 'c0ffee', root, LIMITS);
  assert.is(new TextDecoder().decode(await tree.readFile('a/b/c.txt')), 'c');
  assert.ok(await tree.blobId('a/d.txt'));
  assert.is(await tree.blobId('a/b'), null);
  assert.ok(await tree.treeId?.('a/b'));
  assert.is(await tree.treeId?.('a/d.txt'), null);
  assert.is(await tree.blobId('a/nothing'), null);
  assert.is(await tree.blobId('e.txt/inside'), null);
  assert.equal((await tree.listFiles('a')).map((f) => f.path), ['b/c.txt', 'd.txt']);
});

test('reads each tree object once per commit, however many paths go through it', async () => {
  const repo = new MemoryObjects();
  const files = manyFiles(400, 20);
  const root = repo.files(files);
  const tree = openCommitTree(repo.port, 'c0ffee', root, LIMITS);
  for (const path of Object.keys(files)) await tree.blobId(path);
  await tree.listFiles('conf');
  // The root, conf/ and its 20 directories.
  assert.is(repo.reads.tree, 22);
});

test('an unsafe entry name is refused as unsafe-path at every read, naming the path', async () => {
  const repo = new MemoryObjects();
  const blob = repo.write('blob', Buffer.from('x'));
  const bad = repo.tree([['100644', '..', blob]]);
  const root = repo.tree([['40000', 'releases', bad]]);
  const tree = openCommitTree(repo.port, 'c0ffee', root, LIMITS);
  for (const read of [() => tree.blobId('releases/x'), () => tree.listFiles('releases'), () => tree.blobId('releases/x')]) {
    const err = await refusal(read);
    assert.is(err.code, 'unsafe-path');
    assert.is(err.data.file, 'releases/..');
  }
});

test('a link or a submodule on the way is refused as unsafe-path', async () => {
  const repo = new MemoryObjects();
  const blob = repo.write('blob', Buffer.from('target'));
  const root = repo.tree([['120000', 'link', blob], ['160000', 'sub', blob]]);
  const tree = openCommitTree(repo.port, 'c0ffee', root, LIMITS);
  assert.is((await refusal(() => tree.blobId('link/x'))).code, 'unsafe-path');
  assert.is((await refusal(() => tree.blobId('sub'))).code, 'unsafe-path');
});

test('a name that appears twice in one tree is refused as unsafe-path', async () => {
  const repo = new MemoryObjects();
  const one = repo.write('blob', Buffer.from('one'));
  const two = repo.write('blob', Buffer.from('two'));
  const root = repo.tree([['100644', 'compose.yaml', one], ['100644', 'compose.yaml', two]]);
  const err = await refusal(() => openCommitTree(repo.port, 'c0ffee', root, LIMITS).blobId('compose.yaml'));
  assert.is(err.code, 'unsafe-path');
  assert.is(err.data.file, 'compose.yaml');
});

test('a release over the node\'s file cap is still too-large, whatever was read before', async () => {
  const repo = new MemoryObjects();
  const root = repo.files(channel({ big: '1.0.0' }, [release('big', '1.0.0', manyFiles(30, 3))]));
  const small = { ...LIMITS, maxReleaseFiles: 20 };
  await readChannelContent(openCommitTree(repo.port, 'c0ffee', root, LIMITS), 'production');
  const err = await refusal(() => readChannelContent(openCommitTree(repo.port, 'c0ffee', root, small), 'production'));
  assert.is(err.code, 'too-large');
});

test('a release whose tree did not change between two commits is not read or hashed again', async () => {
  const repo = new MemoryObjects();
  const big = release('big', '1.0.0', manyFiles(200, 10));
  const first = repo.files(channel({ big: '1.0.0', shop: '1.0.0' }, [big, release('shop', '1.0.0', { 'compose.yaml': 'v1' })]));
  const second = repo.files(channel({ big: '1.0.0', shop: '1.1.0' }, [big, release('shop', '1.1.0', { 'compose.yaml': 'v2' })]));
  const before = await readChannelContent(openCommitTree(repo.port, 'c1', first, LIMITS), 'production');
  repo.reads.blob = 0;
  const after = await readChannelContent(openCommitTree(repo.port, 'c2', second, LIMITS), 'production');
  // channel.yaml, the group file, shop's release.yaml and compose.yaml: none of big's 201 files.
  assert.is(repo.reads.blob, 4);
  assert.equal(after.releases.big, before.releases.big);
  assert.is(after.releases.shop?.version, '1.1.0');
});

test('a release read from another repository is read in full', async () => {
  const files = channel({ big: '1.0.0' }, [release('big', '1.0.0', manyFiles(50, 5))]);
  const one = new MemoryObjects();
  const two = new MemoryObjects();
  await readChannelContent(openCommitTree(one.port, 'c1', one.files(files), LIMITS), 'production');
  await readChannelContent(openCommitTree(two.port, 'c1', two.files(files), LIMITS), 'production');
  assert.is(two.reads.blob, one.reads.blob);
});

test('release.yaml is read once per release', async () => {
  const repo = new MemoryObjects();
  const root = repo.files(channel({ shop: '1.0.0' }, [release('shop', '1.0.0', { 'compose.yaml': 'v1' })]));
  await readChannelContent(openCommitTree(repo.port, 'c1', root, LIMITS), 'production');
  // channel.yaml, the group file, release.yaml, compose.yaml.
  assert.is(repo.reads.blob, 4);
});

test.run();
