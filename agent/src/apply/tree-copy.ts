import { createHash, type Hash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { constants, lstatSync, readdirSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { chmod, copyFile, lchown, lstat, lutimes, mkdir, open, readlink, symlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsError } from './fs-error.js';
import { syncPath } from './file-sync.js';
import { AS_ROOT, breather, copySmallFile, SMALL_FILE } from './small-file.js';

/**
 * A recursive copy for backups and restores (DESIGN §4.3): keeps modes, mtimes, ownership (when
 * running as root, as the agent does beside the engine — a database volume owned by uid 999 must
 * come back owned by 999), symlinks as symlinks (never followed: a link in a data dir may point
 * anywhere on the host) and empty directories. Each regular file's sha256 is taken from the bytes as
 * they are copied (one read of the source), so the manifest describes exactly the bytes in the backup.
 */

export type SpecialKind = 'socket' | 'fifo' | 'block-device' | 'char-device' | 'unknown';

export interface FileFacts {
  /** Hex sha256 of the content; '' when the copy was made with `hash: false`. */
  readonly sha256: string;
  readonly size: number;
  /** Permission bits including setuid, setgid and sticky (mode & 0o7777). */
  readonly mode: number;
}

/** What a tree holds, by path relative to its root with `/` separators ('' is the root itself). */
export interface TreeFacts {
  readonly files: Record<string, FileFacts>;
  /** Link path -> target exactly as stored in the link. */
  readonly symlinks: Record<string, string>;
  readonly dirs: string[];
  /** Sockets, fifos and devices are not copied (a data dir may hold a socket), only listed here. */
  readonly skipped: Array<{ path: string; kind: SpecialKind }>;
  /** Sum of the regular files' sizes. */
  readonly bytes: number;
}

export interface CopyOptions {
  /** Compute each file's sha256 (default true); a restore's staging copy skips it after a verify. */
  readonly hash?: boolean;
  /**
   * fsync each file and directory before returning (default true). A backup passes false and
   * makes the whole backup durable at once (file-sync.ts) before its rename.
   */
  readonly durable?: boolean;
  /**
   * Called for each regular file before it is copied: it may put the file at `dst` itself (a file
   * a pre-copy already holds, precopy.ts) and return its sha256; null copies it as usual.
   */
  readonly reuse?: (rel: string, src: string, dst: string) => string | null;
  /** Called after each regular file was copied (not for a reused one), with its source path. */
  readonly copied?: (rel: string, src: string) => void;
  /** A file removed between the walk and its copy is left out (a pre-copy of a running app). */
  readonly skipVanished?: boolean;
}

/**
 * How regular files above SMALL_FILE were copied: a reflink shares the source's blocks (btrfs, XFS),
 * no data moves; a kernel copy (fs.copyFile: copy_file_range or sendfile) moves the bytes inside
 * the kernel, then one read of the source hashes them.
 */
export type CopyMethod = 'reflink' | 'kernel-copy';

export interface CopiedTree extends TreeFacts {
  /** 'reflink' only when every file of the tree was cloned. */
  readonly method: CopyMethod;
  /** Regular files `reuse` placed (not read again). */
  readonly reused: number;
}

interface Entry {
  readonly rel: string;
  readonly abs: string;
  readonly stat: Stats;
}

const CHUNK = 1 << 20;
// Enough parallel files to overlap the per-file syscalls of small files; hashing is on the main
// thread, so more workers do not make large files faster.
const WORKERS = 4;

async function io<T>(file: string, what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw fsError(file, what, err);
  }
}

function specialKind(stat: Stats): SpecialKind {
  if (stat.isSocket()) return 'socket';
  if (stat.isFIFO()) return 'fifo';
  if (stat.isBlockDevice()) return 'block-device';
  if (stat.isCharacterDevice()) return 'char-device';
  return 'unknown';
}

/**
 * Every entry under `root` (the root first), parents before children, names in sorted order.
 * Synchronous lstat and readdir, yielding now and then: an async call per entry costs a thread-pool
 * trip each, which made the walk alone take seconds for a few thousand files on a loaded machine.
 */
async function walk(root: string, exclude: (rel: string) => boolean = () => false): Promise<Entry[]> {
  const entries: Entry[] = [];
  const pause = breather();
  const visit = async (rel: string, abs: string): Promise<void> => {
    await pause();
    const stat = ioSync(abs, 'cannot read', () => lstatSync(abs));
    entries.push({ rel, abs, stat });
    if (!stat.isDirectory()) return;
    const names = ioSync(abs, 'cannot list', () => readdirSync(abs)).sort();
    for (const name of names) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      if (!exclude(childRel)) await visit(childRel, join(abs, name));
    }
  };
  await visit('', root);
  return entries;
}

function ioSync<T>(file: string, what: string, op: () => T): T {
  try {
    return op();
  } catch (err) {
    throw fsError(file, what, err);
  }
}

/** Runs `fn` over `items` with `limit` in flight; on a failure, lets the others settle, then throws. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T, buffer: Buffer) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    const buffer = Buffer.allocUnsafe(CHUNK);
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item, buffer);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

async function hashHandle(handle: FileHandle, buffer: Buffer): Promise<string> {
  const hash = createHash('sha256');
  let position = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}

/** sha256 of one file, read once in 1 MiB chunks through a reused buffer. */
export async function hashFile(path: string, buffer: Buffer = Buffer.allocUnsafe(CHUNK)): Promise<string> {
  return io(path, 'cannot read', async () => {
    const handle = await open(path, 'r');
    try {
      return await hashHandle(handle, buffer);
    } finally {
      await handle.close();
    }
  });
}

/** Ownership first: chown clears setuid/setgid, so the mode is set after it. */
async function copyAttributes(entry: Entry, dst: string): Promise<void> {
  const { stat } = entry;
  await io(dst, 'cannot set attributes of', async () => {
    if (AS_ROOT) await lchown(dst, stat.uid, stat.gid);
    if (stat.isSymbolicLink()) {
      await lutimes(dst, stat.atime, stat.mtime);
      return;
    }
    await chmod(dst, stat.mode & 0o7777);
    await utimes(dst, stat.atime, stat.mtime);
  });
}

/** Whether clones still work in this copy: the first refusal stops the tries for the rest of the tree. */
interface CloneState {
  tryReflink: boolean;
  cloned: number;
}

// What FICLONE answers on a file system (or a pair of them) that cannot share blocks.
const NO_REFLINK = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOSYS', 'ENOTTY', 'EPERM', 'EBADF']);

/**
 * A reflink where the file system has them (btrfs, XFS: no data is written, so only the hash reads
 * the source); elsewhere the kernel copies the file (copy_file_range: no bytes through this
 * process) and one read of the source hashes it. On a loaded 2-core machine that took half the
 * time of one read hashed as it is written (issue 13: 1 GiB 2.0-2.5 s against 4.4-5.5 s, with
 * sync). Two reads describe the same bytes only if the source held still: a file whose size,
 * mtime, ctime or inode moved meanwhile is copied again in one read hashed as it is written.
 */
async function copyRegular(entry: Entry, dst: string, buffer: Buffer, opts: { hash: boolean; durable: boolean }, clones: CloneState): Promise<string> {
  // No COPYFILE_EXCL after a refused clone: it may have left the empty file it opened.
  if (!(await reflinked(entry, dst, clones))) await io(entry.abs, 'cannot copy', () => copyFile(entry.abs, dst));
  const sha256 = opts.hash ? await hashFile(entry.abs, buffer) : '';
  if (opts.hash && !heldStill(entry)) return copyHashing(entry, dst, buffer, opts);
  if (opts.durable) await syncPath(dst);
  return sha256;
}

/** Clones the file when the file system still allows it; false once it refused (then for the rest of the tree). */
async function reflinked(entry: Entry, dst: string, clones: CloneState): Promise<boolean> {
  if (!clones.tryReflink) return false;
  try {
    await copyFile(entry.abs, dst, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
    clones.cloned += 1;
    return true;
  } catch (err) {
    if (!NO_REFLINK.has((err as NodeJS.ErrnoException).code ?? '')) throw fsError(entry.abs, 'cannot copy', err);
    clones.tryReflink = false;
    return false;
  }
}

/** Whether the source is as the walk saw it: nothing wrote, truncated or replaced it since. */
function heldStill(entry: Entry): boolean {
  let now: Stats;
  try {
    now = lstatSync(entry.abs);
  } catch {
    return false;
  }
  const was = entry.stat;
  return now.ino === was.ino && now.size === was.size && now.mtimeMs === was.mtimeMs && now.ctimeMs === was.ctimeMs;
}

/** One read of the source, each chunk hashed and written: the sha256 is of the bytes written. */
async function copyHashing(entry: Entry, dst: string, buffer: Buffer, opts: { hash: boolean; durable: boolean }): Promise<string> {
  return io(entry.abs, 'cannot copy', async () => {
    const from = await open(entry.abs, 'r');
    try {
      const to = await open(dst, 'w', 0o600);
      try {
        const hash = createHash('sha256');
        await pump(from, to, buffer, hash);
        if (opts.durable) await to.sync();
        return hash.digest('hex');
      } finally {
        await to.close();
      }
    } finally {
      await from.close();
    }
  });
}

async function pump(from: FileHandle, to: FileHandle, buffer: Buffer, hash: Hash): Promise<void> {
  let position = 0;
  for (;;) {
    const { bytesRead } = await from.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return;
    const chunk = buffer.subarray(0, bytesRead);
    hash.update(chunk);
    let written = 0;
    while (written < bytesRead) written += (await to.write(chunk, written, bytesRead - written, position + written)).bytesWritten;
    position += bytesRead;
  }
}

/** One regular file: small ones in place (small-file.ts), others through the thread pool. */
async function copyFileOf(entry: Entry, to: string, buffer: Buffer, opts: { hash: boolean; durable: boolean }, clones: CloneState, pause: () => Promise<void>): Promise<string> {
  if (entry.stat.size <= SMALL_FILE && !clones.tryReflink) {
    await pause();
    return copySmallFile(entry.abs, to, entry.stat, buffer, opts);
  }
  const sha256 = await copyRegular(entry, to, buffer, opts, clones);
  await copyAttributes(entry, to);
  return sha256;
}

function vanished(path: string): boolean {
  try {
    lstatSync(path);
    return false;
  } catch {
    return true;
  }
}

function factsOf(entries: readonly Entry[]): { files: Record<string, FileFacts>; symlinks: Record<string, string>; dirs: string[]; skipped: TreeFacts['skipped'] } {
  const dirs: string[] = [];
  const skipped: TreeFacts['skipped'] = [];
  for (const { rel, stat } of entries) {
    if (stat.isDirectory()) dirs.push(rel);
    else if (!stat.isFile() && !stat.isSymbolicLink()) skipped.push({ path: rel, kind: specialKind(stat) });
  }
  return { files: {}, symlinks: {}, dirs, skipped };
}

function sumBytes(files: Record<string, FileFacts>): number {
  return Object.values(files).reduce((sum, f) => sum + f.size, 0);
}

/**
 * Copies `src` (a directory, a file or a symlink) to `dst`, which must not exist; its parent is
 * made when missing. Returns what was copied. Hard links become separate files.
 */
export async function copyTree(src: string, dst: string, options: CopyOptions = {}): Promise<CopiedTree> {
  const opts = { hash: options.hash ?? true, durable: options.durable ?? true };
  let reused = 0;
  const entries = await walk(src);
  const facts = factsOf(entries);
  const target = (rel: string): string => (rel === '' ? dst : join(dst, rel));
  await io(dirname(dst), 'cannot create', () => mkdir(dirname(dst), { recursive: true }));

  const files: Entry[] = [];
  const clones: CloneState = { tryReflink: true, cloned: 0 };
  for (const entry of entries) {
    const to = target(entry.rel);
    if (entry.stat.isDirectory()) {
      // Owner-writable until its children are in; the real mode is set afterwards, deepest first.
      await io(to, 'cannot create', () => mkdir(to, { mode: 0o700 }));
    } else if (entry.stat.isSymbolicLink()) {
      const link = await io(entry.abs, 'cannot read link', () => readlink(entry.abs));
      await io(to, 'cannot create link', () => symlink(link, to));
      await copyAttributes(entry, to);
      facts.symlinks[entry.rel] = link;
    } else if (entry.stat.isFile()) {
      files.push(entry);
    }
  }

  const pause = breather();
  await eachLimit(files, WORKERS, async (entry, buffer) => {
    const to = target(entry.rel);
    const kept = options.reuse?.(entry.rel, entry.abs, to) ?? null;
    let sha256: string;
    if (kept !== null) {
      await pause();
      sha256 = kept;
      reused += 1;
    } else {
      try {
        sha256 = await copyFileOf(entry, to, buffer, opts, clones, pause);
      } catch (err) {
        if (options.skipVanished && vanished(entry.abs)) return;
        throw err;
      }
      options.copied?.(entry.rel, entry.abs);
    }
    // The size is the copy's (from the stat before it), which is the source's: the stack is stopped.
    facts.files[entry.rel] = { sha256, size: entry.stat.size, mode: entry.stat.mode & 0o7777 };
  });

  const dirs = entries.filter((e) => e.stat.isDirectory()).reverse();
  for (const entry of dirs) {
    if (opts.durable) await syncPath(target(entry.rel));
    await copyAttributes(entry, target(entry.rel));
  }
  const method: CopyMethod = files.length > 0 && clones.cloned === files.length ? 'reflink' : 'kernel-copy';
  return { ...facts, files: sortKeys(facts.files), bytes: sumBytes(facts.files), method, reused };
}

/** What `root` holds, hashed the same way copyTree hashes, for verifying a copy against its record. */
export async function hashTree(root: string, exclude?: (rel: string) => boolean): Promise<TreeFacts> {
  const entries = await walk(root, exclude);
  const facts = factsOf(entries);
  for (const entry of entries) {
    if (entry.stat.isSymbolicLink()) facts.symlinks[entry.rel] = await io(entry.abs, 'cannot read link', () => readlink(entry.abs));
  }
  await eachLimit(
    entries.filter((e) => e.stat.isFile()),
    WORKERS,
    async (entry, buffer) => {
      facts.files[entry.rel] = { sha256: await hashFile(entry.abs, buffer), size: entry.stat.size, mode: entry.stat.mode & 0o7777 };
    },
  );
  return { ...facts, files: sortKeys(facts.files), bytes: sumBytes(facts.files) };
}

/** Bytes of the regular files under `root` (0 when it does not exist): the estimate a space check needs. */
export async function treeBytes(root: string): Promise<number> {
  try {
    await lstat(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw fsError(root, 'cannot read', err);
  }
  return (await walk(root)).reduce((sum, e) => sum + (e.stat.isFile() ? e.stat.size : 0), 0);
}

/** Parallel workers finish in any order; sorted keys keep manifests byte-stable across runs. */
function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
