// A channel's working directory seen through the agent's own CommitTree interface, so `duck release
// lint` runs the very checks an agent runs on a fetched commit (read-release, trust-policy) on the
// files a publisher is about to commit. Blob ids are git's, so a working file compares with a
// committed one by id, exactly as `git diff` would.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseYaml } from '../../../schemas/index.js';
import type { CommitTree } from '../channel/commit-tree.js';
import { assertSafePath } from '../channel/commit-tree.js';
import { DuckError } from '../../../schemas/errors.js';
import { DEFAULT_LIMITS } from '../core/limits.js';

export const WORK_TREE = 'working tree';

/** git's object id of a blob with these bytes (`git hash-object`). */
export function gitBlobId(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export function openWorkTree(root: string): CommitTree {
  const full = (path: string): string => join(root, ...path.split('/'));

  /** The entry's kind, refusing a link on the way, as the agent refuses a link in a tree. */
  const kindOf = async (path: string): Promise<'file' | 'dir' | null> => {
    assertSafePath(path, path);
    const segments = path.split('/');
    for (const [i] of segments.entries()) {
      const soFar = segments.slice(0, i + 1).join('/');
      const stat = await lstat(full(soFar)).catch(() => null);
      if (stat === null) return null;
      if (stat.isSymbolicLink()) throw new DuckError('unsafe-path', `${soFar}: symbolic links are not allowed in a channel`, { file: soFar });
      if (i === segments.length - 1) return stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : null;
      if (!stat.isDirectory()) return null;
    }
    return null;
  };

  const readChecked = async (path: string, field = ''): Promise<Uint8Array> => {
    if ((await kindOf(path)) !== 'file') throw new DuckError('invalid', `${path}: missing from the ${WORK_TREE}`, { file: path, field });
    return readFile(full(path));
  };

  const listFiles = async (dir: string): Promise<Array<{ path: string; oid: string }>> => {
    if ((await kindOf(dir)) !== 'dir') return [];
    const out: Array<{ path: string; oid: string }> = [];
    const { files, links } = await walkTree(full(dir));
    if (links[0] !== undefined) throw new DuckError('unsafe-path', `${dir}/${links[0]}: symbolic links are not allowed in a channel`, { file: `${dir}/${links[0]}` });
    for (const rel of files) out.push({ path: rel, oid: gitBlobId(await readFile(join(full(dir), rel))) });
    return out;
  };

  return {
    commit: WORK_TREE,
    // Lint holds a release to what an agent with default limits accepts.
    limits: DEFAULT_LIMITS,
    blobId: async (path) => ((await kindOf(path)) === 'file' ? gitBlobId(await readFile(full(path))) : null),
    readFile: readChecked,
    readYaml: async (schema, path) => parseYaml(schema, new TextDecoder().decode(await readChecked(path)), path),
    listFiles,
  };
}

/**
 * Every file and every symbolic link below `dir` (paths relative to it, '/'-separated, sorted),
 * skipping a top-level `.git`. Links are listed apart: git commits them as links, which agents refuse.
 */
export async function walkTree(dir: string): Promise<{ files: string[]; links: string[] }> {
  const files: string[] = [];
  const links: string[] = [];
  const walk = async (abs: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(abs, { withFileTypes: true })) {
      if (prefix === '' && entry.name === '.git') continue;
      const rel = prefix + entry.name;
      if (entry.isSymbolicLink()) links.push(rel);
      else if (entry.isDirectory()) await walk(join(abs, entry.name), `${rel}/`);
      else if (entry.isFile()) files.push(rel);
    }
  };
  await walk(dir, '');
  return { files: files.sort(byPath), links: links.sort(byPath) };
}

export function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
