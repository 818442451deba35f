// The pre-copy on a real file system (issue 13): an upgrade copies the data while the old version
// serves, and the backup after the stop copies only what changed since. Whatever happened between
// the two, the backup must hold exactly the data at the stop, with a manifest that verifies.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BackupInput, BackupStore } from '../../agent/src/apply/backup-store.js';
import { createBackupStore, MANIFEST } from '../../agent/src/apply/backup-store.js';
import { hashTree } from '../../agent/src/apply/tree-copy.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';

interface Ctx {
  root: string;
  data: string;
  volume: string;
  backups: string;
  store: BackupStore;
}

const KEY = '6f1c2a9e-0d4b-4c1e-9a57-2b8e4f0c7d13';
const STAGING = `precopy-${KEY}.partial`;

const Precopy = suite<Ctx>('backup after a pre-copy', {} as Ctx);
Precopy.before.each(async (ctx) => {
  ctx.root = await makeTempDir('duck-precopy-');
  ctx.data = join(ctx.root, 'data');
  ctx.volume = join(ctx.root, 'volumes/pg/_data');
  ctx.backups = join(ctx.root, 'backups');
  // No margin: the tests wait for the file-system clock to move past the data instead (settle below).
  ctx.store = createBackupStore(ctx.backups, { precopyMarginMs: 0 });
  await mkdir(join(ctx.data, 'db'), { recursive: true });
  await mkdir(ctx.volume, { recursive: true });
  await writeFile(join(ctx.data, 'db/main.sqlite'), randomBytes(256 * 1024));
  await writeFile(join(ctx.data, 'db/wal.log'), 'wal one\n');
  await writeFile(join(ctx.data, 'db/tmp.lock'), 'pid 7\n');
  await writeFile(join(ctx.volume, 'PG_VERSION'), '16\n');
  await writeFile(join(ctx.volume, 'big.bin'), randomBytes(200 * 1024));
  await settle(ctx.root, join(ctx.volume, 'big.bin'));
});
Precopy.after.each(async (ctx) => removeTempDir(ctx.root));

function input(ctx: Ctx, extra: Partial<BackupInput> = {}): BackupInput {
  return { app: 'shop', version: '1.0.0', dataDir: ctx.data, paths: ['db', 'uploads'], volumes: [{ name: 'pg', mountpoint: ctx.volume }], releaseDir: null, reason: 'before 1.0.0 -> 1.1.0', ...extra };
}

const precopy = (ctx: Ctx) => ctx.store.precopy({ key: KEY, dataDir: ctx.data, paths: ['db', 'uploads'], volumes: [{ name: 'pg', mountpoint: ctx.volume }], releaseDir: null });

/** Waits until a file written in `dir` gets a later ctime than `newest`, the last file written (timestamps are coarse). */
async function settle(dir: string, newest: string): Promise<void> {
  const probe = join(dir, '.tick');
  const last = (await stat(newest, { bigint: true })).ctimeNs;
  for (;;) {
    await writeFile(probe, '');
    if ((await stat(probe, { bigint: true })).ctimeNs > last) break;
  }
  await rm(probe);
}

const inodeOf = async (path: string): Promise<bigint> => (await lstat(path, { bigint: true })).ino;

Precopy('a file changed after the pre-copy is copied again, an unchanged one is taken from the pre-copy without being read, a removed one is absent', async (ctx) => {
  await precopy(ctx);
  const staged = join(ctx.backups, STAGING);
  const stagedInodes = { main: await inodeOf(join(staged, 'data/db/main.sqlite')), big: await inodeOf(join(staged, 'volumes/pg/big.bin')), wal: await inodeOf(join(staged, 'data/db/wal.log')) };
  // While the app still ran: the WAL grew, a lock file went away, a new file came.
  await writeFile(join(ctx.data, 'db/wal.log'), 'wal one\nwal two\n');
  await rm(join(ctx.data, 'db/tmp.lock'));
  await writeFile(join(ctx.data, 'db/new.idx'), 'index\n');

  const record = await ctx.store.create(input(ctx, { precopy: KEY }));
  const root = join(ctx.backups, record.id);
  assert.equal(record.delta, { copied: 2, reused: 3 }, 'the changed and the new file copied; main.sqlite, PG_VERSION and big.bin taken');
  // Taken means moved: the backup's file is the very inode the pre-copy wrote, so its bytes were not read again.
  assert.is(await inodeOf(join(root, 'data/db/main.sqlite')), stagedInodes.main);
  assert.is(await inodeOf(join(root, 'volumes/pg/big.bin')), stagedInodes.big);
  assert.is.not(await inodeOf(join(root, 'data/db/wal.log')), stagedInodes.wal, 'the changed file is a new copy');
  assert.is(await readFile(join(root, 'data/db/wal.log'), 'utf8'), 'wal one\nwal two\n');
  assert.not.ok(existsSync(join(root, 'data/db/tmp.lock')), 'a file removed after the pre-copy is not in the backup');
  assert.not.ok(record.files['data/db/tmp.lock'], 'nor in its manifest');
  assert.ok(existsSync(join(root, 'data/db/new.idx')));
  assert.equal(record.absent, ['uploads']);
  assert.not.ok(existsSync(join(ctx.backups, STAGING)), 'what the backup did not take is removed');

  // Exact: the manifest is the data at the stop, byte for byte, and the backup verifies against it.
  const [db, pg] = await Promise.all([hashTree(join(ctx.data, 'db')), hashTree(ctx.volume)]);
  const expected = {
    ...Object.fromEntries(Object.entries(db.files).map(([p, f]) => [`data/db/${p}`, f])),
    ...Object.fromEntries(Object.entries(pg.files).map(([p, f]) => [`volumes/pg/${p}`, f])),
  };
  assert.equal(record.files, expected);
  await ctx.store.verify(record.id);
});

Precopy('a file rewritten in place after the pre-copy, same size and mtime put back, is copied again: its ctime moved', async (ctx) => {
  await precopy(ctx);
  const path = join(ctx.data, 'db/main.sqlite');
  const before = await stat(path);
  const rewritten = randomBytes(256 * 1024);
  await writeFile(path, rewritten);
  await utimes(path, before.atime, before.mtime);
  const record = await ctx.store.create(input(ctx, { precopy: KEY }));
  assert.equal((await readFile(join(ctx.backups, record.id, 'data/db/main.sqlite'))).equals(rewritten), true, 'the backup holds the bytes at the stop');
  assert.equal(record.delta, { copied: 1, reused: 4 });
  await ctx.store.verify(record.id);
});

Precopy('a file touched within the margin before the pre-copy is not trusted to it', async (ctx) => {
  const store = createBackupStore(ctx.backups, { precopyMarginMs: 60_000 });
  await store.precopy({ key: KEY, dataDir: ctx.data, paths: ['db'], volumes: [], releaseDir: null });
  const record = await store.create(input(ctx, { precopy: KEY, paths: ['db'], volumes: [] }));
  assert.equal(record.delta, { copied: 3, reused: 0 }, 'every file changed less than a minute ago is copied after the stop');
  await store.verify(record.id);
});

Precopy('a kill during the pre-copy loses nothing: the data is untouched, the partial pre-copy is a leftover the next start removes', async (ctx) => {
  const data = await hashTree(ctx.data);
  await precopy(ctx);
  // Killed here: the stop never came. The next writer start lists and removes what was left.
  assert.equal((await ctx.store.leftovers()).map((l) => l.name), [STAGING]);
  assert.equal(await ctx.store.cleanPartial(), [STAGING]);
  assert.not.ok(existsSync(join(ctx.backups, STAGING)));
  assert.equal((await ctx.store.list()).backups, [], 'a pre-copy is never a backup');
  assert.equal(await hashTree(ctx.data), data, 'the data is as it was');
});

Precopy('a pre-copy cut short before its record was written is not used: the backup copies everything', async (ctx) => {
  await precopy(ctx);
  await rm(join(ctx.backups, STAGING, 'precopy.json'));
  const record = await ctx.store.create(input(ctx, { precopy: KEY }));
  assert.is(record.delta, undefined, 'no pre-copy to take from');
  assert.is(Object.keys(record.files).length, 5);
  assert.ok(existsSync(join(ctx.backups, record.id, MANIFEST)));
  await ctx.store.verify(record.id);
});

Precopy.run();
