// The backup store on a real file system (DESIGN §4.3 step 3 and 6): what a backup holds and
// records, how verify catches a changed backup, how restore puts data back exactly (or refuses and
// changes nothing), and the listing, pruning and clean-up around it.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BackupInput, BackupRecord, BackupStore, RestoreTarget } from '../../agent/src/apply/backup-store.js';
import { createBackupStore, MANIFEST } from '../../agent/src/apply/backup-store.js';
import { freeBytes } from '../../agent/src/apply/disk-space.js';
import type { TreeFacts } from '../../agent/src/apply/tree-copy.js';
import { hashTree } from '../../agent/src/apply/tree-copy.js';
import type { DuckErrorCode } from '../../schemas/errors.js';
import { rejection } from '../helpers/rejection.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';

interface Ctx {
  root: string;
  /** The app's data directory; `uploads` is a declared data path that does not exist. */
  data: string;
  /** A directory standing in for the mountpoint of the docker volume `pg`. */
  volume: string;
  release: string;
  backups: string;
  store: BackupStore;
}

const PATHS = ['db', 'config.yml', 'logs/app', 'uploads'];
const OLD = new Date('2024-01-02T03:04:05Z');
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Starts at 2025-03-01T02:00:00Z and moves one minute per call, so every backup has its own time. */
function steppingClock(): () => Date {
  let at = Date.parse('2025-03-01T02:00:00Z') - 60_000;
  return () => new Date((at += 60_000));
}

/** A data directory with the shapes a real one has: nested dirs, an empty dir, links, tight modes. */
async function seed(ctx: Ctx): Promise<void> {
  await mkdir(join(ctx.data, 'db/wal'), { recursive: true });
  await mkdir(join(ctx.data, 'db/empty'));
  await writeFile(join(ctx.data, 'db/main.sqlite'), randomBytes(64 * 1024));
  await writeFile(join(ctx.data, 'db/wal/0001.log'), 'wal one\n');
  await symlink('main.sqlite', join(ctx.data, 'db/current'));
  // Absolute and never followed: a link in a data dir may point anywhere on the host.
  await symlink('/etc/hostname', join(ctx.data, 'db/host'));
  await writeFile(join(ctx.data, 'config.yml'), 'port: 8080\n');
  await mkdir(join(ctx.data, 'logs/app'), { recursive: true });
  await writeFile(join(ctx.data, 'logs/app/today.log'), 'started\n');
  await mkdir(join(ctx.volume, 'base/1'), { recursive: true });
  await writeFile(join(ctx.volume, 'PG_VERSION'), '16\n');
  await writeFile(join(ctx.volume, 'base/1/1259'), randomBytes(8 * 1024), { mode: 0o600 });
  await mkdir(ctx.release, { recursive: true });
  await writeFile(join(ctx.release, 'compose.yaml'), 'services: {}\n');
  await writeFile(join(ctx.release, '.env'), 'SECRET=1\n', { mode: 0o600 });
  // Modes and times last: writing children would move a directory's mtime again.
  const modes = { 'db/main.sqlite': 0o600, 'config.yml': 0o640, 'db/empty': 0o700, db: 0o750 };
  for (const [path, mode] of Object.entries(modes)) await chmod(join(ctx.data, path), mode);
  for (const path of ['db/main.sqlite', 'db']) await utimes(join(ctx.data, path), OLD, OLD);
}

function backupSuite(name: string) {
  const s = suite<Ctx>(`backup store: ${name}`, {} as Ctx);
  s.before.each(async (ctx) => {
    ctx.root = await makeTempDir('duck-backups-');
    ctx.data = join(ctx.root, 'data');
    ctx.volume = join(ctx.root, 'volumes/pg/_data');
    ctx.release = join(ctx.root, 'releases/1.0.0');
    ctx.backups = join(ctx.root, 'backups');
    ctx.store = createBackupStore(ctx.backups, { now: steppingClock() });
    await seed(ctx);
  });
  s.after.each(async (ctx) => removeTempDir(ctx.root));
  return s;
}

function input(ctx: Ctx, extra: Partial<BackupInput> = {}): BackupInput {
  const volumes = [{ name: 'pg', mountpoint: ctx.volume }];
  return { app: 'shop', version: '1.0.0', dataDir: ctx.data, paths: PATHS, volumes, releaseDir: ctx.release, reason: 'upgrade to 1.1.0', ...extra };
}

const target = (ctx: Ctx): RestoreTarget => ({ dataDir: ctx.data, volumes: [{ name: 'pg', mountpoint: ctx.volume }] });

/** A small backup of one file, for the tests about many backups. */
const small = (ctx: Ctx, app = 'shop', version = '1.0.0'): Promise<BackupRecord> =>
  ctx.store.create(input(ctx, { app, version, paths: ['config.yml'], volumes: [], releaseDir: null }));

/** The tree under `dir` as facts (files with sha256 and mode, links, dirs) for exact comparisons. */
const snapshot = (dir: string): Promise<TreeFacts> => hashTree(dir);

// ---- create ----

const Create = backupSuite('create');

Create('copies each data path to data/<path>: nested dirs, a single file, empty dirs, symlinks as links, modes and mtimes', async (ctx) => {
  const record = await ctx.store.create(input(ctx));
  const copy = join(ctx.backups, record.id, 'data');
  assert.equal(await snapshot(join(copy, 'db')), await snapshot(join(ctx.data, 'db')));
  assert.equal(await snapshot(join(copy, 'logs/app')), await snapshot(join(ctx.data, 'logs/app')));
  assert.equal(await readFile(join(copy, 'config.yml'), 'utf8'), 'port: 8080\n');
  assert.is((await lstat(join(copy, 'config.yml'))).mode & 0o7777, 0o640);
  assert.is((await lstat(join(copy, 'db/main.sqlite'))).mode & 0o7777, 0o600);
  assert.is((await lstat(join(copy, 'db'))).mode & 0o7777, 0o750);
  assert.ok((await lstat(join(copy, 'db/host'))).isSymbolicLink(), 'a link stays a link');
  assert.is(await readlink(join(copy, 'db/host')), '/etc/hostname');
  assert.equal(await readdir(join(copy, 'db/empty')), []);
  assert.is((await lstat(join(copy, 'db/main.sqlite'))).mtimeMs, OLD.getTime());
  assert.is((await lstat(join(copy, 'db'))).mtimeMs, OLD.getTime());
});

Create('copies the volume to volumes/<name> and the release directory to release/', async (ctx) => {
  const record = await ctx.store.create(input(ctx));
  assert.equal(await snapshot(join(ctx.backups, record.id, 'volumes/pg')), await snapshot(ctx.volume));
  assert.equal(await snapshot(join(ctx.backups, record.id, 'release')), await snapshot(ctx.release));
});

Create('writes manifest.json with id, app, version, createdAt, reason, bytes, paths, volumes and absent', async (ctx) => {
  const record = await ctx.store.create(input(ctx));
  const manifest = JSON.parse(await readFile(join(ctx.backups, record.id, MANIFEST), 'utf8')) as BackupRecord;
  assert.equal(manifest, record);
  assert.match(record.id, /^shop-1\.0\.0-20250301T020000Z-[0-9a-f]{4}$/);
  assert.is(record.app, 'shop');
  assert.is(record.version, '1.0.0');
  assert.is(record.createdAt, '2025-03-01T02:00:00.000Z');
  assert.is(record.reason, 'upgrade to 1.1.0');
  assert.equal(record.paths, PATHS);
  assert.equal(record.volumes, ['pg']);
  assert.equal(record.absent, ['uploads']);
  const sizes = Object.values(record.files).reduce((sum, f) => sum + f.size, 0);
  assert.is(record.bytes, sizes);
  assert.ok(record.bytes > 72 * 1024, `bytes: ${record.bytes}`);
});

Create('records for every copied file the sha256 of its source, and for every link its target', async (ctx) => {
  const record = await ctx.store.create(input(ctx));
  const source = (key: string): string =>
    key.startsWith('data/') ? join(ctx.data, key.slice(5)) : key.startsWith('volumes/pg/') ? join(ctx.volume, key.slice(11)) : join(ctx.release, key.slice(8));
  const copied = ['data/config.yml', 'data/db/main.sqlite', 'data/db/wal/0001.log', 'data/logs/app/today.log'];
  assert.equal(Object.keys(record.files).sort(), [...copied, 'release/.env', 'release/compose.yaml', 'volumes/pg/PG_VERSION', 'volumes/pg/base/1/1259']);
  for (const [key, facts] of Object.entries(record.files)) {
    const bytes = await readFile(source(key));
    assert.is(facts.sha256, sha256(bytes), key);
    assert.is(facts.size, bytes.length, key);
    assert.is(facts.mode, (await lstat(source(key))).mode & 0o7777, key);
  }
  assert.equal(record.symlinks, { 'data/db/current': 'main.sqlite', 'data/db/host': '/etc/hostname' });
});

Create('lists a data path that does not exist in absent and copies nothing for it', async (ctx) => {
  const record = await ctx.store.create(input(ctx, { paths: ['config.yml', 'uploads', 'srv/cache'] }));
  assert.equal(record.absent, ['uploads', 'srv/cache']);
  assert.equal(await readdir(join(ctx.backups, record.id, 'data')), ['config.yml']);
});

Create('backs up a data path that is a dangling symlink as the link, not as absent', async (ctx) => {
  await symlink('../elsewhere/gone', join(ctx.data, 'uploads'));
  const record = await ctx.store.create(input(ctx, { paths: ['uploads'], volumes: [], releaseDir: null }));
  assert.equal(record.absent, []);
  assert.equal(record.symlinks, { 'data/uploads': '../elsewhere/gone' });
  assert.is(await readlink(join(ctx.backups, record.id, 'data/uploads')), '../elsewhere/gone');
});

Create('names the backup directory by its id and leaves no .partial behind', async (ctx) => {
  const record = await ctx.store.create(input(ctx));
  assert.equal(await readdir(ctx.backups), [record.id]);
  assert.equal((await readdir(join(ctx.backups, record.id))).sort(), ['data', MANIFEST, 'release', 'volumes']);
});

Create('leaves nothing that looks like a backup when a source cannot be read', async (ctx) => {
  const missing = join(ctx.root, 'volumes/gone/_data');
  const err = await rejection(ctx.store.create(input(ctx, { volumes: [{ name: 'gone', mountpoint: missing }] })));
  assert.is(err.code, 'io');
  assert.match(err.message, missing);
  assert.equal(await readdir(ctx.backups), []);
});

Create('refuses with no-space naming the backups directory when minFreeBytes exceeds the free space, writing nothing', async (ctx) => {
  const minFreeBytes = (await freeBytes(ctx.root)) + 1024 ** 3;
  const store = createBackupStore(ctx.backups, { minFreeBytes, now: steppingClock() });
  const err = await rejection(store.create(input(ctx)));
  assert.is(err.code, 'no-space');
  assert.match(err.message, ctx.backups);
  assert.not.ok(existsSync(ctx.backups), 'the backups directory was not even made');
});

Create.run();

// ---- verify ----

const Verify = backupSuite('verify');

Verify('passes an intact backup and returns its record', async (ctx) => {
  const record = await ctx.store.create(input(ctx));
  assert.equal(await ctx.store.verify(record.id), record);
  assert.equal(await ctx.store.get(record.id), record);
});

async function flipByte(file: string, at: number): Promise<void> {
  const bytes = await readFile(file);
  bytes[at] = (bytes[at] as number) ^ 0x01;
  await writeFile(file, bytes);
}

async function relink(link: string, to: string): Promise<void> {
  await unlink(link);
  await symlink(to, link);
}

async function editManifest(dir: string, edit: (text: string) => string): Promise<void> {
  await writeFile(join(dir, MANIFEST), edit(await readFile(join(dir, MANIFEST), 'utf8')));
}

/** A change to a finished backup (given its directory), the code verify must give, and the path it must name. */
const DAMAGE: Array<{ rule: string; damage: (dir: string) => Promise<unknown>; code: DuckErrorCode; names: string }> = [
  { rule: 'a flipped byte in one file', damage: (dir) => flipByte(join(dir, 'volumes/pg/base/1/1259'), 4000), code: 'digest-mismatch', names: 'volumes/pg/base/1/1259 has sha256' },
  { rule: 'a deleted file', damage: (dir) => unlink(join(dir, 'data/db/wal/0001.log')), code: 'digest-mismatch', names: 'data/db/wal/0001.log is missing' },
  { rule: 'an extra file', damage: (dir) => writeFile(join(dir, 'data/db/intruder'), 'x'), code: 'digest-mismatch', names: 'data/db/intruder is not in the manifest' },
  { rule: 'a changed symlink', damage: (dir) => relink(join(dir, 'data/db/current'), '/etc/shadow'), code: 'digest-mismatch', names: 'symlink data/db/current should point at main.sqlite' },
  { rule: 'an extra symlink', damage: (dir) => symlink('/etc/shadow', join(dir, 'data/db/sneaky')), code: 'digest-mismatch', names: 'symlink data/db/sneaky is not in' },
  { rule: 'a changed file mode', damage: (dir) => chmod(join(dir, 'data/db/main.sqlite'), 0o644), code: 'digest-mismatch', names: 'data/db/main.sqlite has mode 0644' },
  { rule: 'an unparsable manifest', damage: (dir) => editManifest(dir, (text) => text.slice(0, 40)), code: 'invalid', names: MANIFEST },
  {
    rule: 'a manifest without its lists',
    damage: (dir) => editManifest(dir, (text) => JSON.stringify({ ...(JSON.parse(text) as BackupRecord), absent: null, symlinks: null })),
    code: 'invalid',
    names: MANIFEST,
  },
];

for (const { rule, damage, code, names } of DAMAGE) {
  Verify(`refuses ${rule} with ${code}, naming it (${names})`, async (ctx) => {
    const { id } = await ctx.store.create(input(ctx));
    await damage(join(ctx.backups, id));
    const err = await rejection(ctx.store.verify(id));
    assert.is(err.code, code);
    assert.match(err.message, names);
  });
}

Verify.run();

// ---- restore ----

const Restore = backupSuite('restore');

/** Edits, adds and removes files in the data paths and the volume, as a failed upgrade might. */
async function churn(ctx: Ctx): Promise<void> {
  await writeFile(join(ctx.data, 'db/main.sqlite'), 'migrated');
  await writeFile(join(ctx.data, 'db/new-table'), 'rows');
  await rm(join(ctx.data, 'db/wal'), { recursive: true });
  await rm(join(ctx.data, 'db/empty'), { recursive: true });
  await relink(join(ctx.data, 'db/current'), 'new-table');
  await chmod(join(ctx.data, 'config.yml'), 0o666);
  await chmod(join(ctx.data, 'db'), 0o777);
  await rm(join(ctx.data, 'logs'), { recursive: true });
  await writeFile(join(ctx.volume, 'PG_VERSION'), '17\n');
  await writeFile(join(ctx.volume, 'base/1/2000'), 'new relation');
}

Restore('puts back exactly the backed-up data paths and volume after edits, additions and removals', async (ctx) => {
  const before = { data: await snapshot(ctx.data), volume: await snapshot(ctx.volume) };
  const record = await ctx.store.create(input(ctx));
  await churn(ctx);
  assert.not.equal(await snapshot(ctx.data), before.data);
  assert.equal(await ctx.store.restore(record.id, target(ctx)), record);
  assert.equal(await snapshot(ctx.data), before.data);
  assert.equal(await snapshot(ctx.volume), before.volume);
  assert.is((await lstat(join(ctx.data, 'db'))).mode & 0o7777, 0o750);
  assert.is((await lstat(join(ctx.data, 'db'))).mtimeMs, OLD.getTime());
  assert.is((await lstat(join(ctx.data, 'db/main.sqlite'))).mtimeMs, OLD.getTime());
});

Restore('removes again a data path that was absent when the backup was taken', async (ctx) => {
  const record = await ctx.store.create(input(ctx));
  await mkdir(join(ctx.data, 'uploads/2025'), { recursive: true });
  await writeFile(join(ctx.data, 'uploads/2025/a.png'), 'png');
  await ctx.store.restore(record.id, target(ctx));
  assert.not.ok(existsSync(join(ctx.data, 'uploads')));
});

Restore('refuses a volume of the backup missing from target.volumes with not-found naming it, changing nothing', async (ctx) => {
  const record = await ctx.store.create(input(ctx));
  await churn(ctx);
  const churned = await snapshot(ctx.root);
  const err = await rejection(ctx.store.restore(record.id, { dataDir: ctx.data, volumes: [] }));
  assert.is(err.code, 'not-found');
  assert.match(err.message, /volume\(s\) pg\b/);
  assert.equal(await snapshot(ctx.root), churned);
});

Restore('refuses a corrupt backup with digest-mismatch and leaves the current data untouched', async (ctx) => {
  const record = await ctx.store.create(input(ctx));
  await churn(ctx);
  const churned = await snapshot(ctx.root);
  await writeFile(join(ctx.backups, record.id, 'data/config.yml'), 'port: 6666\n');
  const err = await rejection(ctx.store.restore(record.id, target(ctx)));
  assert.is(err.code, 'digest-mismatch');
  assert.match(err.message, 'data/config.yml');
  const after = await snapshot(ctx.root);
  const config = 'backups/' + record.id + '/data/config.yml';
  assert.equal({ ...after.files, [config]: null }, { ...churned.files, [config]: null }, 'only the damaged backup file differs');
  assert.equal(after.symlinks, churned.symlinks);
  assert.equal(after.dirs, churned.dirs);
});

Restore('clears .duck-restore and .duck-old siblings an earlier crash left, and restores a path it had moved aside', async (ctx) => {
  const before = await snapshot(ctx.data);
  const record = await ctx.store.create(input(ctx));
  await churn(ctx);
  // Crashed mid-swap: db moved aside to db.duck-old, a half copy in db.duck-restore; config.yml
  // has a stale staging file; uploads (absent at backup time) has both leftovers.
  await rename(join(ctx.data, 'db'), join(ctx.data, 'db.duck-old'));
  await mkdir(join(ctx.data, 'db.duck-restore'));
  await writeFile(join(ctx.data, 'db.duck-restore/half'), 'half');
  await writeFile(join(ctx.data, 'config.yml.duck-restore'), 'stale');
  await mkdir(join(ctx.data, 'uploads.duck-old'));
  await writeFile(join(ctx.data, 'uploads.duck-restore'), 'stale');
  await ctx.store.restore(record.id, target(ctx));
  assert.equal(await snapshot(ctx.data), before);
});

Restore('replaces a data path that is now a dangling symlink', async (ctx) => {
  const before = await snapshot(ctx.data);
  const record = await ctx.store.create(input(ctx));
  await rm(join(ctx.data, 'logs/app'), { recursive: true });
  await symlink('/nonexistent/app-logs', join(ctx.data, 'logs/app'));
  await ctx.store.restore(record.id, target(ctx));
  assert.equal(await snapshot(ctx.data), before);
});

Restore('restoreRelease copies the release directory only when it is missing', async (ctx) => {
  const before = await snapshot(ctx.release);
  const record = await ctx.store.create(input(ctx));
  await writeFile(join(ctx.release, 'compose.yaml'), 'services: {edited: {}}\n');
  await ctx.store.restoreRelease(record.id, ctx.release);
  assert.is(await readFile(join(ctx.release, 'compose.yaml'), 'utf8'), 'services: {edited: {}}\n', 'a present release dir is left alone');
  await rm(ctx.release, { recursive: true });
  await ctx.store.restoreRelease(record.id, ctx.release);
  assert.equal(await snapshot(ctx.release), before);
  assert.equal(await readdir(join(ctx.root, 'releases')), ['1.0.0']);
});

Restore('restoreRelease of a backup without a release directory is not-found', async (ctx) => {
  const record = await small(ctx);
  await rm(ctx.release, { recursive: true });
  const err = await rejection(ctx.store.restoreRelease(record.id, ctx.release));
  assert.is(err.code, 'not-found');
  assert.match(err.message, record.id);
  assert.not.ok(existsSync(ctx.release));
});

Restore.run();

// ---- list, prune, remove, cleanPartial ----

const Manage = backupSuite('list and prune');

Manage('lists newest first, and only the named app when one is given', async (ctx) => {
  const a = await small(ctx, 'shop', '1.0.0');
  const b = await small(ctx, 'blog', '2.0.0');
  const c = await small(ctx, 'shop', '1.1.0');
  const all = await ctx.store.list();
  assert.equal(all.backups.map((r) => r.id), [c.id, b.id, a.id]);
  assert.equal(all.broken, []);
  assert.equal((await ctx.store.list('shop')).backups.map((r) => r.id), [c.id, a.id]);
  assert.equal((await ctx.store.list('blog')).backups.map((r) => r.id), [b.id]);
});

Manage('lists a backup with a broken manifest under broken, never under backups', async (ctx) => {
  const good = await small(ctx);
  const bad = await small(ctx);
  await writeFile(join(ctx.backups, bad.id, MANIFEST), '{"id": ');
  const { backups, broken } = await ctx.store.list('shop');
  assert.equal(backups.map((r) => r.id), [good.id]);
  assert.equal(broken.map((b) => b.id), [bad.id]);
  assert.match(broken[0]?.problem ?? '', MANIFEST);
  assert.equal((await ctx.store.list('blog')).broken, []);
});

Manage('ignores names that are not backup ids', async (ctx) => {
  const good = await small(ctx);
  await mkdir(join(ctx.backups, 'x.partial'));
  await mkdir(join(ctx.backups, `${good.id.replace(/-[0-9a-f]{4}$/, '-beef')}.partial`));
  await writeFile(join(ctx.backups, 'notes'), 'keep the March ones');
  assert.equal(await ctx.store.list(), { backups: [good], broken: [] });
});

Manage('lists nothing when the backups directory does not exist yet', async (ctx) => {
  assert.equal(await ctx.store.list(), { backups: [], broken: [] });
});

Manage('prune keeps the newest `keep` of the app, leaves other apps alone, and returns the removed ids', async (ctx) => {
  const shop = [];
  for (let i = 0; i < 4; i += 1) shop.push(await small(ctx, 'shop', `1.${i}.0`));
  const blog = await small(ctx, 'blog');
  const removed = await ctx.store.prune('shop', 2);
  assert.equal(removed, [shop[1]?.id, shop[0]?.id]);
  assert.equal((await readdir(ctx.backups)).sort(), [blog.id, shop[2]?.id, shop[3]?.id].sort());
});

Manage('prune never removes a protected backup, and a protected one takes no `keep` place', async (ctx) => {
  const shop = [];
  for (let i = 0; i < 4; i += 1) shop.push(await small(ctx));
  const oldest = shop[0]?.id ?? '';
  const removed = await ctx.store.prune('shop', 1, [oldest]);
  assert.equal(removed, [shop[2]?.id, shop[1]?.id]);
  assert.equal((await readdir(ctx.backups)).sort(), [oldest, shop[3]?.id].sort());
  assert.equal(await ctx.store.prune('shop', 0, [oldest]), [shop[3]?.id]);
  assert.equal(await readdir(ctx.backups), [oldest]);
});

Manage('remove deletes the named backup only; an unknown id is not-found', async (ctx) => {
  const a = await small(ctx);
  const b = await small(ctx);
  await ctx.store.remove(a.id);
  assert.equal(await readdir(ctx.backups), [b.id]);
  const err = await rejection(ctx.store.remove(a.id));
  assert.is(err.code, 'not-found');
  assert.match(err.message, a.id);
});

Manage('remove deletes a backup whose manifest is broken, so an operator can clear what list shows', async (ctx) => {
  const bad = await small(ctx);
  await rm(join(ctx.backups, bad.id, MANIFEST));
  assert.equal((await ctx.store.list()).broken.map((b) => b.id), [bad.id]);
  await ctx.store.remove(bad.id);
  assert.equal(await readdir(ctx.backups), []);
});

Manage('leftovers counts <id>.partial directories with their size, and cleanPartial removes those only', async (ctx) => {
  const good = await small(ctx);
  const partial = `${good.id.replace(/-[0-9a-f]{4}$/, '-beef')}.partial`;
  await mkdir(join(ctx.backups, partial, 'data'), { recursive: true });
  await writeFile(join(ctx.backups, partial, 'data', 'half'), 'x'.repeat(1000));
  await mkdir(join(ctx.backups, 'x.partial'));
  await writeFile(join(ctx.backups, 'notes'), 'keep');
  assert.equal(await ctx.store.leftovers(), [{ name: partial, bytes: 1000 }]);
  assert.equal(await ctx.store.cleanPartial(), [partial]);
  assert.equal(await ctx.store.leftovers(), []);
  assert.equal((await readdir(ctx.backups)).sort(), [good.id, 'notes', 'x.partial'].sort());
  assert.equal(await ctx.store.cleanPartial(), []);
});

Manage.run();

// ---- ids ----

const Ids = backupSuite('ids');

Ids('refuses ids such as ../etc and a/b with usage in every call, touching nothing', async (ctx) => {
  // ../etc from the backups directory is a real directory holding a manifest-like file.
  await mkdir(join(ctx.root, 'etc'));
  await writeFile(join(ctx.root, 'etc', MANIFEST), JSON.stringify({ id: '../etc', app: 'shop', version: '1.0.0', files: {} }));
  const record = await small(ctx);
  const before = await snapshot(ctx.root);
  for (const id of ['../etc', 'a/b', `${record.id}/..`, '.', '']) {
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['get', () => ctx.store.get(id)],
      ['verify', () => ctx.store.verify(id)],
      ['restore', () => ctx.store.restore(id, target(ctx))],
      ['restoreRelease', () => ctx.store.restoreRelease(id, join(ctx.root, 'releases/9.9.9'))],
      ['remove', () => ctx.store.remove(id)],
    ];
    for (const [name, call] of calls) {
      const err = await rejection(call());
      assert.is(err.code, 'usage', `${name}(${JSON.stringify(id)})`);
      assert.is(err.data.field, 'backup-id');
    }
  }
  assert.equal(await snapshot(ctx.root), before);
});

Ids.run();
