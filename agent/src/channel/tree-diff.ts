import type { GitObjects, TreeEntry } from '../ports.js';
import { parseTreeObject } from './tree-object.js';

/** One path that differs between two trees: a whole added or removed subtree is one change. */
export interface TreeChange {
  readonly path: string;
  readonly kind: 'added' | 'removed' | 'modified';
}

/**
 * The paths where two trees differ, by object id: a subtree whose id is the same in both is never
 * read, so comparing two commits of a large channel costs the directories on the changed paths.
 * An entry whose type changes (a file become a directory) is one `modified` change at its path.
 */
export async function diffTrees(objects: GitObjects, before: string, after: string, dir = ''): Promise<TreeChange[]> {
  if (before === after) return [];
  const [a, b] = await Promise.all([entriesOf(objects, before, dir), entriesOf(objects, after, dir)]);
  const changes: TreeChange[] = [];
  for (const name of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const path = dir ? `${dir}/${name}` : name;
    const x = a.get(name);
    const y = b.get(name);
    if (!x) changes.push({ path, kind: 'added' });
    else if (!y) changes.push({ path, kind: 'removed' });
    else if (x.type === 'tree' && y.type === 'tree') changes.push(...(await diffTrees(objects, x.oid, y.oid, path)));
    else if (x.oid !== y.oid || x.mode !== y.mode) changes.push({ path, kind: 'modified' });
  }
  return changes;
}

async function entriesOf(objects: GitObjects, oid: string, dir: string): Promise<Map<string, TreeEntry>> {
  return new Map(parseTreeObject(await objects.readTreeRaw(oid), oid, dir).map((e) => [e.path, e]));
}
