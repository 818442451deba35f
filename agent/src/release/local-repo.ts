// The publisher's own clone of the channel, read and written with isomorphic-git: the agent's
// channel code reads its commits by object id (GitObjects), and `duck release commit / sign` write
// commits without needing GnuPG. Native git is used only where a person's own setup must apply
// (revision syntax isomorphic-git lacks; `git commit -S`).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import git from 'isomorphic-git';
import type { CommitTree } from '../channel/commit-tree.js';
import { openCommitTree } from '../channel/commit-tree.js';
import type { GitObjects } from '../ports.js';
import { parseCommitObject } from '../channel/commit-object.js';
import { DuckError } from '../../../schemas/errors.js';
import { openObjectStore } from '../adapters/git-object-store.js';
import { gitObjectsOf } from '../adapters/git-objects.js';

const run = promisify(execFile);

export interface LocalRepo {
  readonly dir: string;
  readonly objects: GitObjects;
  /** The commit HEAD points at, or null in a repository without commits. */
  head(): Promise<string | null>;
  /** The branch HEAD names (`main`), or null when HEAD is detached. */
  branch(): Promise<string | null>;
  /** A revision (branch, remote branch, tag, oid; native git syntax as a fallback) as a commit id. */
  resolveCommit(ref: string): Promise<string>;
  /** The commit's tree, read by object id with the agent's path rules. */
  treeAt(commit: string): Promise<CommitTree>;
  /** Paths whose index or working file differs from HEAD, staged new files included (untracked ones not). */
  trackedChanges(): Promise<string[]>;
  /** `git add -A`: every change, new and deleted files included (.gitignore respected). */
  stageAll(): Promise<void>;
  /** Moves the current branch (or a detached HEAD) to `oid`. */
  moveHead(oid: string): Promise<void>;
}

export async function openLocalRepo(dir: string): Promise<LocalRepo> {
  const gitdir = `${dir}/.git`;
  if (!fs.existsSync(`${gitdir}/HEAD`)) {
    throw new DuckError('config', `${dir}: not a git repository (create a channel with \`duck release init\`, or pass --channel)`, { file: dir });
  }
  const cache = {};
  const objects = gitObjectsOf(openObjectStore(gitdir));

  const branch = async (): Promise<string | null> => (await git.currentBranch({ fs, dir, fullname: false })) ?? null;

  return {
    dir,
    objects,
    head: async () => git.resolveRef({ fs, dir, ref: 'HEAD' }).catch(() => null),
    branch,
    resolveCommit: async (ref) => {
      const oid = await resolveWithIsomorphicGit(dir, ref).catch(() => resolveWithNativeGit(dir, ref));
      return (await git.readCommit({ fs, dir, oid, cache })).oid;
    },
    treeAt: async (commit) => {
      const object = parseCommitObject(await objects.readCommitRaw(commit), commit);
      // No size cap here: lint reports large files itself, with the limit agents apply.
      return openCommitTree(objects, commit, object.tree, { maxFileBytes: Number.MAX_SAFE_INTEGER, maxReleaseFiles: Number.MAX_SAFE_INTEGER });
    },
    trackedChanges: async () => {
      const rows = await git.statusMatrix({ fs, dir, cache });
      const unchanged = (h: number, w: number, s: number): boolean => h === 1 && w === 1 && s === 1;
      const untracked = (h: number, s: number): boolean => h === 0 && s === 0;
      return rows.filter(([, h, w, s]) => !unchanged(h, w, s) && !untracked(h, s)).map(([path]) => path);
    },
    stageAll: async () => {
      for (const [path, head, work, stage] of await git.statusMatrix({ fs, dir, cache })) {
        // statusMatrix: work 1 = as in HEAD, 2 = changed; stage 1 = as in HEAD, 2 = as the work file.
        if (work === 0) {
          if (head === 1 || stage !== 0) await git.remove({ fs, dir, filepath: path, cache });
        } else if (work !== stage) {
          await git.add({ fs, dir, filepath: path, cache });
        }
      }
    },
    moveHead: async (oid) => {
      const name = await branch();
      await git.writeRef({ fs, dir, ref: name === null ? 'HEAD' : `refs/heads/${name}`, value: oid, force: true });
    },
  };
}

async function resolveWithIsomorphicGit(dir: string, ref: string): Promise<string> {
  if (/^[0-9a-f]{4,39}$/.test(ref)) return git.expandOid({ fs, dir, oid: ref });
  return git.resolveRef({ fs, dir, ref });
}

async function resolveWithNativeGit(dir: string, ref: string): Promise<string> {
  try {
    const { stdout } = await run('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: dir });
    return stdout.trim();
  } catch {
    throw new DuckError('usage', `${ref}: no such revision in ${dir} (in CI, fetch the target branch first: git fetch origin <branch>)`, { ref });
  }
}
