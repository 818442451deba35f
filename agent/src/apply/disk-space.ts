import { statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DuckError } from '../../../schemas/errors.js';
import { formatBytes } from '../core/bytes.js';

/**
 * Bytes an unprivileged writer may still use on the file system holding `dir` (statfs `bavail`,
 * not `bfree`: the root-reserved blocks are no room to plan a backup in). A directory not made
 * yet is measured at its nearest existing ancestor, so the check can run before anything is written.
 */
export async function freeBytes(dir: string): Promise<number> {
  let at = resolve(dir);
  for (;;) {
    try {
      const fs = await statfs(at);
      return fs.bavail * fs.bsize;
    } catch (err) {
      const parent = dirname(at);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) {
        throw new DuckError('io', `cannot measure free space at ${dir}: ${(err as Error).message}`, { file: dir }, 'transient', { cause: err });
      }
      at = parent;
    }
  }
}

/** Refuses with 'no-space' unless `needBytes` fits in `dir` and `minFreeBytes` are still left after. */
export async function assertFreeSpace(dir: string, needBytes: number, minFreeBytes = 0): Promise<void> {
  const free = await freeBytes(dir);
  const needed = needBytes + minFreeBytes;
  if (free >= needed) return;
  throw new DuckError(
    'no-space',
    `not enough free space in ${dir}: needs ${formatBytes(needed)} (${formatBytes(needBytes)} to write + ${formatBytes(minFreeBytes)} to keep free), ` +
      `${formatBytes(free)} free`,
    { file: dir, neededBytes: needed, writeBytes: needBytes, minFreeBytes, freeBytes: free },
    // Space is freed by an operator or by pruning, not by waiting: a retry in a minute would fail alike.
    'stalled',
  );
}
