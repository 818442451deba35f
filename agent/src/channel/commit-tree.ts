import type { SchemaName, SchemaTypes } from '../../../schemas/index.js';
import { parseYaml } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import type { TreeLimits } from '../core/limits.js';
import type { GitObjects, TreeEntry } from '../ports.js';
import type { VerifiedReleases } from './verified-content.js';
import { verifiedReleasesOf } from './verified-content.js';
import { parseTreeObject } from './tree-object.js';

/**
 * Read access to one commit's tree, by object id, with the channel's path rules enforced:
 * no `..`, no absolute paths, no unsafe entry name in any tree read, no symlinks or submodules,
 * no blob over the size cap.
 * Nothing here ever looks at a working tree.
 */
export interface CommitTree {
  readonly commit: string;
  /** The node's caps, for readers that enforce their own (files per release). */
  readonly limits: TreeLimits;
  blobId(path: string): Promise<string | null>;
  readFile(path: string, field?: string): Promise<Uint8Array>;
  readYaml<N extends SchemaName>(schema: N, path: string): Promise<SchemaTypes[N]>;
  /**
   * Every entry below `dir`, recursively, paths relative to `dir`; links and submodules are refused.
   * The walk stops once it has found more than `max` files: the caller can tell a directory over its
   * cap without reading all of it.
   */
  listFiles(dir: string, max?: number): Promise<Array<{ path: string; oid: string }>>;
  /** The object id of the directory at `path`, or null; absent where there are no object ids (a working tree). */
  treeId?(path: string): Promise<string | null>;
  /** Releases already read and checked from this repository, by tree id: shared by all its commits. */
  readonly verified?: VerifiedReleases;
}

const MODE_SYMLINK = '120000';
const MODE_SUBMODULE = '160000';

export function assertSafePath(path: string, file: string, field = ''): void {
  const segments = path.split('/');
  const bad =
    path === '' ||
    path.startsWith('/') ||
    path.includes('\\') ||
    path.includes('\0') ||
    /^[A-Za-z]:/.test(path) ||
    segments.some((s) => s === '' || s === '.' || s === '..');
  if (bad) throw new DuckError('unsafe-path', `${file}: ${field ? field + ': ' : ''}unsafe path "${path}"`, { file, field, path });
}

/**
 * Each tree object is read and parsed once per commit tree, into a map by name: a lookup is one
 * hash probe per path segment, not a scan of every directory from the root (a release of 2,000
 * files used to cost seconds). Only trees that parsed cleanly are kept, so an unsafe name is
 * refused at every read, naming the path it was reached by.
 */
export function openCommitTree(objects: GitObjects, commit: string, treeOid: string, limits: TreeLimits): CommitTree {
  const { maxFileBytes } = limits;
  const parsed = new Map<string, ReadonlyMap<string, TreeEntry>>();
  const entriesOf = async (oid: string, dir: string): Promise<ReadonlyMap<string, TreeEntry>> => {
    const known = parsed.get(oid);
    if (known) return known;
    const list = parseTreeObject(await objects.readTreeRaw(oid), oid, dir);
    const entries = new Map(list.map((e) => [e.path, e]));
    // One name for two objects is a tree git never writes; which one a reader sees must not be a guess.
    if (entries.size < list.length) {
      const twice = list.find((e, i) => list.findIndex((o) => o.path === e.path) !== i)!.path;
      const path = dir ? `${dir}/${twice}` : twice;
      throw new DuckError('unsafe-path', `${path}: the name appears twice in a tree of the channel`, { file: path, path });
    }
    parsed.set(oid, entries);
    return entries;
  };
  const entryAt = async (path: string): Promise<TreeEntry | null> => {
    assertSafePath(path, path);
    const segments = path.split('/');
    let dirOid = treeOid;
    for (const [i, name] of segments.entries()) {
      const entry = (await entriesOf(dirOid, segments.slice(0, i).join('/'))).get(name);
      if (!entry) return null;
      const soFar = segments.slice(0, i + 1).join('/');
      assertPlainEntry(entry, soFar);
      if (i === segments.length - 1) return entry;
      if (entry.type !== 'tree') return null;
      dirOid = entry.oid;
    }
    return null;
  };

  const readFile = async (path: string, field = ''): Promise<Uint8Array> => {
    const entry = await entryAt(path);
    if (!entry || entry.type !== 'blob') {
      throw new DuckError('invalid', `${path}: missing from commit ${commit.slice(0, 12)}`, { file: path, field, commit });
    }
    // The declared size first: the blob is inflated whole only when it is within the cap.
    const { size } = await objects.sizeOf(entry.oid);
    if (size > maxFileBytes) {
      throw new DuckError('too-large', `${path}: ${size} bytes exceeds the ${maxFileBytes}-byte limit for a channel file`, { file: path, size });
    }
    return objects.readBlob(entry.oid);
  };

  const listFiles = async (dir: string, max = Number.POSITIVE_INFINITY): Promise<Array<{ path: string; oid: string }>> => {
    const root = await entryAt(dir);
    if (!root || root.type !== 'tree') return [];
    const out: Array<{ path: string; oid: string }> = [];
    const walk = async (oid: string, prefix: string): Promise<void> => {
      for (const entry of (await entriesOf(oid, `${dir}/${prefix}`.replace(/\/$/, ''))).values()) {
        if (out.length > max) return;
        const rel = prefix + entry.path;
        assertPlainEntry(entry, `${dir}/${rel}`);
        if (entry.type === 'tree') await walk(entry.oid, `${rel}/`);
        else out.push({ path: rel, oid: entry.oid });
      }
    };
    await walk(root.oid, '');
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  };

  return {
    commit,
    limits,
    treeId: async (path) => {
      const entry = await entryAt(path);
      return entry && entry.type === 'tree' ? entry.oid : null;
    },
    verified: verifiedReleasesOf(objects),
    blobId: async (path) => {
      const entry = await entryAt(path);
      return entry && entry.type === 'blob' ? entry.oid : null;
    },
    readFile,
    readYaml: async (schema, path) => parseYaml(schema, new TextDecoder().decode(await readFile(path)), path),
    listFiles,
  };
}

/** Links and submodules could point out of the release: refused wherever they are met. */
function assertPlainEntry(entry: TreeEntry, path: string): void {
  if (entry.mode === MODE_SYMLINK) throw new DuckError('unsafe-path', `${path}: symbolic links are not allowed in a channel`, { file: path });
  if (entry.mode === MODE_SUBMODULE) throw new DuckError('unsafe-path', `${path}: submodules are not allowed in a channel`, { file: path });
}
