import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fsError } from './fs-error.js';

/**
 * Durability for backups (DESIGN §4.3): a backup is renamed from `<id>.partial` only once every
 * byte in it is on disk. One `syncfs(2)` of the backup's file system (coreutils `sync -f`) does
 * that in one writeback and one journal commit; an fsync per file costs a journal commit each,
 * which was most of a backup's time (4,160 files of the bench: 15 s against 3 s for cp -a + sync).
 * syncfs also flushes other writers' data on that file system: a bounded cost, paid once.
 */

/** fsync of one file or directory. */
export async function syncPath(path: string): Promise<void> {
  try {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    throw fsError(path, 'cannot sync', err);
  }
}

/**
 * Makes everything under `root` durable: syncfs of its file system, or — where `sync -f` cannot
 * run (no coreutils, a `sync` without -f) — an fsync of every file and directory under it. A
 * `sync -f` that ran and failed is an I/O error, never retried file by file: after a failed
 * syncfs the per-file error state is already consumed, so a second pass could succeed on lost data.
 */
export async function syncFileSystem(root: string, command = 'sync'): Promise<'syncfs' | 'fsync'> {
  const outcome = await runSync(command, root);
  if (outcome === 'ok') return 'syncfs';
  if (outcome !== 'unavailable') throw fsError(root, 'cannot sync', new Error(outcome));
  await syncEach(root);
  return 'fsync';
}

/** 'ok', 'unavailable' (the command is missing or has no -f), or the failure's message. */
async function runSync(command: string, root: string): Promise<string> {
  // Loaded here: a command that only reads (duck status) opens the backup store and never syncs.
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(command, ['-f', root], (err, _stdout, stderr) => {
      if (!err) return resolve('ok');
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return resolve('unavailable');
      // coreutils and busybox name a bad option this way; a real failure names the path.
      resolve(/invalid option|unrecognized option|illegal option|usage/i.test(stderr) ? 'unavailable' : `${command} -f failed: ${stderr.trim() || err.message}`);
    });
  });
}

/** Children before their directory, so a directory is synced after the entries it names exist. */
async function syncEach(path: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (err) {
    throw fsError(path, 'cannot list', err);
  }
  for (const entry of entries) {
    if (entry.isDirectory()) await syncEach(join(path, entry.name));
    else if (entry.isFile()) await syncPath(join(path, entry.name));
  }
  await syncPath(path);
}
