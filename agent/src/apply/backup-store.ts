import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { choosePrune, compareNewestFirst, isBackupId, makeBackupId } from '../core/backup-retention.js';
import { DuckError } from '../../../schemas/errors.js';
import { assertFreeSpace } from './disk-space.js';
import type { BackupSources } from './backup-parts.js';
import { backupParts, exists } from './backup-parts.js';
import type { FileFacts, TreeFacts } from './tree-copy.js';
import { syncFileSystem, syncPath } from './file-sync.js';
import { fsError } from './fs-error.js';
import type { PrecopyRecord } from './precopy.js';
import { isPrecopyName, precopyName, readPrecopy, reusePrecopied, takePrecopy } from './precopy.js';
import { copyTree, hashTree, treeBytes } from './tree-copy.js';

export type { BackupSources } from './backup-parts.js';

/**
 * Backups on disk (DESIGN §4.3): one directory per backup under the backups directory, holding
 * `data/<path>` for each data path, `volumes/<name>` for each named volume, `release/` (the
 * release directory of the version that produced the data) and `manifest.json`. A backup is
 * written as `<id>.partial` and renamed when complete, so a crash never leaves a half backup
 * that looks whole; its manifest (sha256 per file) is checked before any restore. The copy is not
 * fsynced file by file: one sync of the whole backup (file-sync.ts) makes it durable before the
 * rename, and the backups directory is fsynced after it, so the rename never names lost data.
 */

export const MANIFEST = 'manifest.json';
const PARTIAL = '.partial';

export interface BackupRecord {
  readonly id: string;
  readonly app: string;
  /** The version whose data this is: a backup is restored onto this version only. */
  readonly version: string;
  readonly createdAt: string;
  readonly reason: string;
  readonly bytes: number;
  readonly paths: string[];
  readonly volumes: string[];
  /** Data paths that did not exist when the backup was taken: a restore removes them again. */
  readonly absent: string[];
  readonly files: Record<string, FileFacts>;
  readonly symlinks: Record<string, string>;
}

/** A backup directory whose manifest cannot be read: listed, so an operator sees it, never used. */
export interface BrokenBackup {
  readonly id: string;
  readonly problem: string;
}

export interface BackupInput extends BackupSources {
  readonly app: string;
  readonly version: string;
  readonly reason: string;
  /** The key of a pre-copy taken while the app ran (precopy.ts): only what changed since is copied. */
  readonly precopy?: string;
}

/** A backup just written, with how much of it the pre-copy saved (not part of the manifest). */
export interface CreatedBackup extends BackupRecord {
  readonly delta?: { readonly copied: number; readonly reused: number };
}

export interface RestoreTarget {
  readonly dataDir: string;
  readonly volumes: ReadonlyArray<{ name: string; mountpoint: string }>;
}

export interface BackupStore {
  readonly dir: string;
  /** Refuses ('no-space') unless a backup of these fits and leaves minFreeBytes free: callers check before they stop anything. */
  assertRoom(sources: BackupSources, precopy?: string): Promise<void>;
  /** Copies what a backup of `input` would hold while the app still runs, under `key` (precopy.ts). */
  precopy(input: BackupSources & { readonly key: string }): Promise<PrecopyRecord>;
  /** The pre-copy under `key`, or null. */
  precopied(key: string): Promise<PrecopyRecord | null>;
  create(input: BackupInput): Promise<CreatedBackup>;
  /** Newest first; `app` narrows to one app. */
  list(app?: string): Promise<{ backups: BackupRecord[]; broken: BrokenBackup[] }>;
  get(id: string): Promise<BackupRecord>;
  /** Re-hashes the backup against its manifest; throws 'digest-mismatch' naming the first difference. */
  verify(id: string): Promise<BackupRecord>;
  /** Verifies, then puts the data paths and volumes back exactly as they were backed up. */
  restore(id: string, target: RestoreTarget): Promise<BackupRecord>;
  /** Copies the backed-up release directory to `releaseDir` when that is missing. */
  restoreRelease(id: string, releaseDir: string): Promise<void>;
  /** Where the backup keeps the release directory it was taken with. */
  releaseDirOf(id: string): string;
  /** Removes the app's backups beyond the newest `keep`, never the protected ones; returns the ids. */
  prune(app: string, keep: number, protect?: readonly string[]): Promise<string[]>;
  /** Removes the one backup an operator named. */
  remove(id: string): Promise<void>;
  /** Removes backups a crash left unfinished (`<id>.partial`); returns their names. */
  cleanPartial(): Promise<string[]>;
  /** The unfinished backups a crash left, with their size: what the next writer start removes. */
  leftovers(): Promise<PartialLeftover[]>;
}

/** A backup a kill interrupted (`<id>.partial`): never listed as a backup, never restored from. */
export interface PartialLeftover {
  readonly name: string;
  readonly bytes: number;
}

export interface BackupStoreOptions {
  minFreeBytes?: number;
  now?: () => Date;
  /** Makes a finished `<id>.partial` durable before its rename; file-sync.ts unless a test watches it. */
  syncTree?: (root: string) => Promise<unknown>;
  /** precopy.ts's margin against coarse timestamps; a test that waits for the clock to tick passes 0. */
  precopyMarginMs?: number;
}

export function createBackupStore(dir: string, opts: BackupStoreOptions = {}): BackupStore {
  const now = opts.now ?? (() => new Date());
  const syncTree = opts.syncTree ?? syncFileSystem;
  const pathOf = (id: string): string => {
    if (!isBackupId(id)) throw new DuckError('usage', `"${id}" is not a backup id (see duck backups)`, { field: 'backup-id' });
    return join(dir, id);
  };

  const readRecord = async (id: string): Promise<BackupRecord> => {
    const file = join(pathOf(id), MANIFEST);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DuckError('not-found', `no backup ${id} in ${dir}`, { file });
      throw fsError(file, 'cannot read', err);
    }
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (err) {
      throw new DuckError('invalid', `${file}: the backup manifest is unreadable: ${(err as Error).message}`, { file });
    }
    const problem = manifestProblem(record, id);
    if (problem) throw new DuckError('invalid', `${file}: the backup manifest is unreadable: ${problem}`, { file });
    return record as BackupRecord;
  };

  /** Only what create leaves: anything else in the directory is an operator's, not ours to drop. */
  const partialNames = async (): Promise<string[]> => {
    const names = (await exists(dir)) ? await readdir(dir) : [];
    return names.filter((n) => (n.endsWith(PARTIAL) && isBackupId(n.slice(0, -PARTIAL.length))) || isPrecopyName(n)).sort();
  };

  const list = async (app?: string): Promise<{ backups: BackupRecord[]; broken: BrokenBackup[] }> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { backups: [], broken: [] };
      throw fsError(dir, 'cannot list', err);
    }
    const backups: BackupRecord[] = [];
    const broken: BrokenBackup[] = [];
    for (const name of names) {
      if (!isBackupId(name)) continue;
      try {
        const record = await readRecord(name);
        if (!app || record.app === app) backups.push(record);
      } catch (err) {
        if (!app || name.startsWith(`${app}-`)) broken.push({ id: name, problem: (err as Error).message });
      }
    }
    return { backups: backups.sort(compareNewestFirst), broken };
  };

  const verify = async (id: string): Promise<BackupRecord> => {
    const record = await readRecord(id);
    const root = pathOf(id);
    const found = await hashTree(root, (rel) => rel === MANIFEST);
    const problems = compareFacts(record, found);
    if (problems.length > 0) {
      throw new DuckError(
        'digest-mismatch',
        `backup ${id} does not match its manifest (${join(root, MANIFEST)}): ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more` : ''}`,
        { file: join(root, MANIFEST), problems },
      );
    }
    return record;
  };

  const stagingOf = (key: string): string => join(dir, precopyName(key));

  // What a pre-copy already holds is on the disk: only the rest still needs room.
  const assertRoom = async (what: BackupSources, precopy?: string): Promise<void> => {
    const sources = [...what.paths.map((p) => join(what.dataDir, p)), ...what.volumes.map((v) => v.mountpoint), ...(what.releaseDir ? [what.releaseDir] : [])];
    let estimate = 0;
    for (const source of sources) estimate += await treeBytes(source);
    const staged = precopy ? ((await readPrecopy(stagingOf(precopy), precopy))?.bytes ?? 0) : 0;
    await assertFreeSpace(dir, Math.max(0, estimate - staged), opts.minFreeBytes ?? 0);
  };

  return {
    dir,
    assertRoom,
    async precopy(input) {
      await assertRoom(input);
      const staging = stagingOf(input.key);
      try {
        const record = await takePrecopy(staging, input.key, input, opts.precopyMarginMs);
        // On disk now, while the app serves: the sync after the stop then flushes only the delta.
        await syncTree(staging);
        return record;
      } catch (err) {
        await rm(staging, { recursive: true, force: true }).catch(() => undefined);
        throw fsError(staging, 'cannot pre-copy into', err);
      }
    },

    precopied: (key) => readPrecopy(stagingOf(key), key),

    async create(input) {
      await assertRoom(input, input.precopy);
      const createdAt = now();
      const id = makeBackupId(input.app, input.version, createdAt, randomBytes(2).toString('hex'));
      const partial = join(dir, id + PARTIAL);
      const staging = input.precopy ? stagingOf(input.precopy) : null;
      const precopied = staging ? await readPrecopy(staging, input.precopy!) : null;
      await rm(partial, { recursive: true, force: true });
      await mkdir(partial, { recursive: true });
      const files: Record<string, FileFacts> = {};
      const symlinks: Record<string, string> = {};
      let bytes = 0;
      const delta = { copied: 0, reused: 0 };
      try {
        const { parts, absent } = await backupParts(input);
        for (const { source, rel } of parts) {
          const reuse = precopied && staging ? reusePrecopied(staging, precopied, rel) : undefined;
          const facts = await copyTree(source, join(partial, rel), { durable: false, ...(reuse ? { reuse } : {}) });
          bytes += facts.bytes;
          delta.reused += facts.reused;
          delta.copied += Object.keys(facts.files).length - facts.reused;
          mergeFacts(files, symlinks, rel, facts);
        }
        const record: BackupRecord = {
          id,
          app: input.app,
          version: input.version,
          createdAt: createdAt.toISOString(),
          reason: input.reason,
          bytes,
          paths: [...input.paths],
          volumes: input.volumes.map((v) => v.name),
          absent,
          files,
          symlinks,
        };
        await writeFile(join(partial, MANIFEST), `${JSON.stringify(record, null, 2)}\n`);
        await syncTree(partial);
        await rename(partial, join(dir, id));
        await syncPath(dir);
        return precopied ? { ...record, delta } : record;
      } catch (err) {
        // A failed backup leaves nothing that looks like one; the stack is still stopped, and
        // the caller's rollback starts the old version again on the untouched data.
        await rm(partial, { recursive: true, force: true }).catch(() => undefined);
        throw fsError(partial, 'cannot write backup', err);
      } finally {
        // What the backup did not take from the pre-copy: changed since, or removed from the data.
        if (staging) await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      }
    },

    list,
    get: readRecord,
    verify,

    async restore(id, target) {
      const record = await verify(id);
      const root = pathOf(id);
      const missingVolumes = record.volumes.filter((name) => !target.volumes.some((v) => v.name === name));
      if (missingVolumes.length > 0) {
        throw new DuckError('not-found', `backup ${id} holds volume(s) ${missingVolumes.join(', ')}, which do not exist now: create them (docker volume create) and restore again`, {
          file: root,
          volumes: missingVolumes,
        });
      }
      for (const path of record.paths) {
        const place = join(target.dataDir, path);
        if (record.absent.includes(path)) await removeWithLeftovers(place);
        else await swapIn(join(root, 'data', path), place);
      }
      for (const volume of target.volumes) {
        if (record.volumes.includes(volume.name)) await swapIn(join(root, 'volumes', volume.name), volume.mountpoint);
      }
      return record;
    },

    releaseDirOf: (id) => join(pathOf(id), 'release'),

    async restoreRelease(id, releaseDir) {
      if (await exists(releaseDir)) return;
      const source = join(pathOf(id), 'release');
      if (!(await exists(source))) throw new DuckError('not-found', `backup ${id} holds no release directory to restore ${releaseDir} from`, { file: source });
      await swapIn(source, releaseDir);
    },

    async prune(app, keep, protect = []) {
      const { backups } = await list(app);
      const doomed = choosePrune(backups, keep, protect);
      for (const id of doomed) await rm(pathOf(id), { recursive: true, force: true });
      return doomed;
    },

    async remove(id) {
      // The manifest is not read: a broken backup is listed so an operator can remove it.
      const path = pathOf(id);
      if (!(await exists(path))) throw new DuckError('not-found', `no backup ${id} in ${dir}`, { file: path });
      await rm(path, { recursive: true, force: true });
    },

    async cleanPartial() {
      const partials = await partialNames();
      for (const name of partials) await rm(join(dir, name), { recursive: true, force: true });
      return partials;
    },

    async leftovers() {
      const found: PartialLeftover[] = [];
      for (const name of await partialNames()) found.push({ name, bytes: await treeBytes(join(dir, name)) });
      return found;
    },
  };
}

/**
 * Puts a copy of `source` at `place` so that at every moment `place` holds either the old tree
 * or the complete new one: copy beside it, move the old aside, rename the copy in, drop the old.
 * A crash in between leaves `.duck-restore`/`.duck-old` siblings that the next restore clears.
 */
async function swapIn(source: string, place: string): Promise<void> {
  const staging = `${place}.duck-restore`;
  const old = `${place}.duck-old`;
  await rm(staging, { recursive: true, force: true });
  await copyTree(source, staging, { hash: false });
  await rm(old, { recursive: true, force: true });
  if (await exists(place)) await rename(place, old);
  await rename(staging, place);
  await rm(old, { recursive: true, force: true });
}

/** Removes `place` and whatever an interrupted swapIn left beside it. */
async function removeWithLeftovers(place: string): Promise<void> {
  for (const path of [place, `${place}.duck-restore`, `${place}.duck-old`]) await rm(path, { recursive: true, force: true });
}

/** Why a parsed manifest cannot be used for backup `id`, or null; restore trusts every field. */
function manifestProblem(value: unknown, id: string): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not a JSON object';
  const r = value as Record<string, unknown>;
  if (r.id !== id) return `its id ${JSON.stringify(r.id)} does not match the directory`;
  const isMap = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
  const isNames = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string');
  const bad = [
    ...['app', 'version', 'createdAt', 'reason'].filter((k) => typeof r[k] !== 'string'),
    ...(typeof r.bytes === 'number' ? [] : ['bytes']),
    ...['paths', 'volumes', 'absent'].filter((k) => !isNames(r[k])),
    ...['files', 'symlinks'].filter((k) => !isMap(r[k])),
  ];
  if (bad.length > 0) return `field(s) ${bad.join(', ')} missing or of the wrong type`;
  const files = Object.entries(r.files as Record<string, unknown>).filter(([, f]) => {
    const facts = f as Partial<FileFacts> | null;
    return typeof facts?.sha256 !== 'string' || typeof facts.size !== 'number' || typeof facts.mode !== 'number';
  });
  if (files.length > 0) return `files.${files[0]?.[0]} lacks sha256, size or mode`;
  if (Object.values(r.symlinks as Record<string, unknown>).some((t) => typeof t !== 'string')) return 'a symlinks target is not a string';
  return null;
}

function mergeFacts(files: Record<string, FileFacts>, symlinks: Record<string, string>, prefix: string, facts: TreeFacts): void {
  const key = (rel: string): string => (rel === '' ? prefix : `${prefix}/${rel}`);
  for (const [rel, f] of Object.entries(facts.files)) files[key(rel)] = f;
  for (const [rel, target] of Object.entries(facts.symlinks)) symlinks[key(rel)] = target;
}

/** Every difference between what the manifest says and what the backup directory holds. */
export function compareFacts(record: Pick<BackupRecord, 'files' | 'symlinks'>, found: TreeFacts): string[] {
  const problems: string[] = [];
  for (const [path, want] of Object.entries(record.files)) {
    const got = found.files[path];
    if (!got) problems.push(`${path} is missing`);
    else if (got.size !== want.size || got.sha256 !== want.sha256) problems.push(`${path} has sha256 ${got.sha256.slice(0, 12)}…, the manifest says ${want.sha256.slice(0, 12)}…`);
    // A restore copies the backup's modes, so a changed mode would come back. Permission bits
    // only: a non-root copy may lose setgid on chmod, and that is no damage to refuse over.
    else if ((got.mode & 0o777) !== (want.mode & 0o777)) problems.push(`${path} has mode ${octal(got.mode)}, the manifest says ${octal(want.mode)}`);
  }
  for (const path of Object.keys(found.files)) if (!record.files[path]) problems.push(`${path} is not in the manifest`);
  for (const [path, target] of Object.entries(record.symlinks)) {
    if (found.symlinks[path] !== target) problems.push(`symlink ${path} should point at ${target}`);
  }
  for (const path of Object.keys(found.symlinks)) if (record.symlinks[path] === undefined) problems.push(`symlink ${path} is not in the manifest`);
  return problems;
}

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');
