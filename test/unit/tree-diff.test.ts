// Two trees compared by object id (what a promotion-only signer's commit is checked with): a
// subtree whose id is the same on both sides is never read. Trees are raw git tree objects held
// in memory, read through the GitObjects port.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diffTrees } from '../../agent/src/channel/tree-diff.js';
import type { GitObjects } from '../../agent/src/ports.js';

type Entry = [mode: string, name: string, oid: string];

function store(): { objects: GitObjects; tree: (entries: Entry[]) => string; read: string[] } {
  const trees = new Map<string, Uint8Array>();
  const read: string[] = [];
  const tree = (entries: Entry[]): string => {
    const oid = (trees.size + 1).toString(16).padStart(40, 'f');
    trees.set(oid, Buffer.concat(entries.map(([mode, name, id]) => Buffer.concat([Buffer.from(`${mode} ${name}\0`, 'utf8'), Buffer.from(id, 'hex')]))));
    return oid;
  };
  const objects: GitObjects = {
    has: async (oid) => trees.has(oid),
    readCommitRaw: async () => new Uint8Array(),
    readTreeRaw: async (oid) => {
      read.push(oid);
      const raw = trees.get(oid);
      if (!raw) throw new Error(`no tree ${oid}`);
      return raw;
    },
    readBlob: async () => new Uint8Array(),
    sizeOf: async () => ({ type: 'blob', size: 0 }),
  };
  return { objects, tree, read };
}

const blob = (n: number): string => n.toString(16).padStart(40, '0');

test('a modified file deep in a tree is one change at its path; unchanged subtrees are not read', async () => {
  const { objects, tree, read } = store();
  const releases = tree([['40000', 'shop', tree([['40000', '1.0.0', tree([['100644', 'release.yaml', blob(1)]])]])]]);
  const before = tree([['40000', 'groups', tree([['100644', 'production.yaml', blob(2)]])], ['40000', 'releases', releases]]);
  const after = tree([['40000', 'groups', tree([['100644', 'production.yaml', blob(3)]])], ['40000', 'releases', releases]]);
  read.length = 0;
  assert.equal(await diffTrees(objects, before, after), [{ path: 'groups/production.yaml', kind: 'modified' }]);
  assert.not.ok(read.includes(releases), 'the releases subtree is the same object on both sides');
});

test('an added or removed subtree is one change; a type or mode change is a modification', async () => {
  const { objects, tree } = store();
  const release = tree([['100644', 'release.yaml', blob(1)], ['100644', 'compose.yaml', blob(2)]]);
  const before = tree([['40000', 'releases', tree([['40000', '1.0.0', release]])], ['100644', 'run.sh', blob(5)], ['100644', 'notes', blob(6)]]);
  const after = tree([
    ['40000', 'releases', tree([['40000', '1.0.0', release], ['40000', '1.1.0', release]])],
    ['100755', 'run.sh', blob(5)],
    ['40000', 'notes', release],
    ['100644', 'announcements.yaml', blob(7)],
  ]);
  assert.equal(await diffTrees(objects, before, after), [
    { path: 'announcements.yaml', kind: 'added' },
    { path: 'notes', kind: 'modified' },
    { path: 'releases/1.1.0', kind: 'added' },
    { path: 'run.sh', kind: 'modified' },
  ]);
  assert.equal(await diffTrees(objects, after, before), [
    { path: 'announcements.yaml', kind: 'removed' },
    { path: 'notes', kind: 'modified' },
    { path: 'releases/1.1.0', kind: 'removed' },
    { path: 'run.sh', kind: 'modified' },
  ]);
  assert.equal(await diffTrees(objects, before, before), []);
});

test.run();
