import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The files of the node's bare clone of the channel, laid out as git's own (so `git -C` reads it):
 * packs with their indexes, and one branch ref. Only the fetch writes it, always in the order that
 * keeps it whole if the process dies between two writes: the pack, then its index (a reader finds
 * packs by their index; written last and by rename), then the ref. A fetch cut before the end
 * leaves the clone as it was, with no ref moved.
 */
export interface CloneFiles {
  /** The branch ref's commit, or null when the clone has none yet. */
  branchTip(): Promise<string | null>;
  storePack(pack: Uint8Array, idx: Uint8Array): Promise<void>;
  setBranchTip(commit: string): Promise<void>;
}

export function cloneFiles(gitdir: string, branch: string): CloneFiles {
  const refFile = join(gitdir, 'refs', 'heads', ...branch.split('/'));
  const init = async (): Promise<void> => {
    if (existsSync(join(gitdir, 'HEAD'))) return;
    await mkdir(join(gitdir, 'objects', 'pack'), { recursive: true });
    await mkdir(join(gitdir, 'refs', 'heads'), { recursive: true });
    await writeFile(join(gitdir, 'config'), '[core]\n\trepositoryformatversion = 0\n\tbare = true\n');
    await writeFile(join(gitdir, 'HEAD'), `ref: refs/heads/${branch}\n`);
  };
  const replace = async (path: string, data: Uint8Array | string): Promise<void> => {
    await writeFile(`${path}.tmp`, data);
    await rename(`${path}.tmp`, path);
  };
  return {
    branchTip: async () => {
      const text = await readFile(refFile, 'utf8').catch(() => null);
      const match = text === null ? null : /^([0-9a-f]{40})\s*$/.exec(text);
      return match ? match[1]! : null;
    },
    storePack: async (pack, idx) => {
      await init();
      // git names a pack by its checksum, the last 20 bytes of the pack.
      const name = join(gitdir, 'objects', 'pack', `pack-${Buffer.from(pack.subarray(pack.length - 20)).toString('hex')}`);
      await writeFile(`${name}.pack`, pack);
      await replace(`${name}.idx`, idx);
    },
    setBranchTip: async (commit) => {
      await init();
      await mkdir(join(refFile, '..'), { recursive: true });
      await replace(refFile, `${commit}\n`);
    },
  };
}
