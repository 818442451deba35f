// How a backup becomes durable (DESIGN §4.3, apply/file-sync.ts) on a real file system: the copy is
// not fsynced file by file; one sync of the finished `<id>.partial` (syncfs through coreutils
// `sync -f`, an fsync of every file where that cannot run) comes after the manifest and before the
// rename, and a failed sync leaves nothing that looks like a backup. Files of every size — small
// ones copied in place, large ones streamed in chunks — are recorded with the sha256 of their bytes.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createBackupStore, MANIFEST } from '../../agent/src/apply/backup-store.js';
import type { BackupInput } from '../../agent/src/apply/backup-store.js';
import { syncFileSystem } from '../../agent/src/apply/file-sync.js';
import { rejection } from '../helpers/rejection.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';

interface Ctx {
  root: string;
  backups: string;
}

const Durable = suite<Ctx>('backup durability', { root: '', backups: '' });
Durable.before.each(async (ctx) => {
  ctx.root = await makeTempDir('duck-backup-sync-');
  ctx.backups = join(ctx.root, 'backups');
  await mkdir(join(ctx.root, 'data/db/wal'), { recursive: true });
  await writeFile(join(ctx.root, 'data/db/main.sqlite'), 'rows\n');
  await writeFile(join(ctx.root, 'data/db/wal/0001.log'), 'wal\n');
  await mkdir(join(ctx.root, 'release'));
  await writeFile(join(ctx.root, 'release/compose.yaml'), 'services: {}\n');
});
Durable.after.each(async (ctx) => removeTempDir(ctx.root));

const input = (ctx: Ctx): BackupInput => ({
  app: 'shop',
  version: '1.0.0',
  reason: 'upgrade to 1.1.0',
  dataDir: join(ctx.root, 'data'),
  paths: ['db'],
  volumes: [],
  releaseDir: join(ctx.root, 'release'),
});

Durable('makes the whole backup durable with one sync, after its manifest is written and before the rename', async (ctx) => {
  const seen: Array<{ root: string; entries: string[]; renamed: boolean }> = [];
  const syncTree = async (root: string): Promise<void> => {
    const names = await readdir(ctx.backups);
    seen.push({ root, entries: (await readdir(root)).sort(), renamed: names.some((n) => !n.endsWith('.partial')) });
  };
  const record = await createBackupStore(ctx.backups, { syncTree }).create(input(ctx));
  assert.equal(seen, [{ root: join(ctx.backups, `${record.id}.partial`), entries: ['data', MANIFEST, 'release'], renamed: false }]);
  assert.equal(await readdir(ctx.backups), [record.id]);
});

Durable('leaves nothing that looks like a backup when the durability sync fails', async (ctx) => {
  const syncTree = async (root: string): Promise<void> => {
    throw Object.assign(new Error(`EIO: i/o error, syncfs '${root}'`), { code: 'EIO' });
  };
  const err = await rejection(createBackupStore(ctx.backups, { syncTree }).create(input(ctx)));
  assert.is(err.code, 'io');
  assert.equal(await readdir(ctx.backups), []);
});

Durable('syncs the whole file system once with sync -f where coreutils has it', async (ctx) => {
  assert.is(await syncFileSystem(join(ctx.root, 'data')), 'syncfs');
});

Durable('falls back to an fsync of every file and directory when the sync command is missing', async (ctx) => {
  assert.is(await syncFileSystem(join(ctx.root, 'data'), join(ctx.root, 'no-such-sync')), 'fsync');
});

Durable('reports a sync -f that ran and failed as io naming the directory, without a file-by-file retry', async (ctx) => {
  const data = join(ctx.root, 'data');
  const err = await rejection(syncFileSystem(data, 'false'));
  assert.is(err.code, 'io');
  assert.match(err.message, data);
});

Durable('names the directory when the fallback cannot read it', async (ctx) => {
  const gone = join(ctx.root, 'gone');
  const err = await rejection(syncFileSystem(gone, join(ctx.root, 'no-such-sync')));
  assert.is(err.code, 'io');
  assert.match(err.message, gone);
});

Durable('copies files below, at and above the small-file limit and across chunks byte for byte, with sha256, mode and mtime', async (ctx) => {
  const sizes = [0, 1, 64 * 1024, 64 * 1024 + 1, 3 * 1024 * 1024 + 7];
  const when = new Date('2024-01-02T03:04:05Z');
  for (const size of sizes) {
    const file = join(ctx.root, 'data/db', `f${size}`);
    await writeFile(file, randomBytes(size));
    await chmod(file, 0o640);
    await utimes(file, when, when);
  }
  const record = await createBackupStore(ctx.backups).create(input(ctx));
  for (const size of sizes) {
    const bytes = await readFile(join(ctx.root, 'data/db', `f${size}`));
    const copy = join(ctx.backups, record.id, 'data/db', `f${size}`);
    assert.equal(await readFile(copy), bytes, `f${size}`);
    assert.equal(record.files[`data/db/f${size}`], { sha256: createHash('sha256').update(bytes).digest('hex'), size, mode: 0o640 });
    assert.is((await lstat(copy)).mode & 0o7777, 0o640, `f${size}`);
    assert.is((await lstat(copy)).mtimeMs, when.getTime(), `f${size}`);
  }
});

Durable.run();
