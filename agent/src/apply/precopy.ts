import type { BigIntStats } from 'node:fs';
import { lstatSync, renameSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckError } from '../../../schemas/errors.js';
import type { BackupSources } from './backup-parts.js';
import { backupParts } from './backup-parts.js';
import type { CopyOptions, FileFacts } from './tree-copy.js';
import { copyTree } from './tree-copy.js';

/**
 * The pre-copy (issue 13): an upgrade copies the app's data while the old version still serves,
 * so that once it is stopped the backup copies only what changed since and the app is down for
 * the delta, not the whole copy. The pre-copy lives in `<backups>/precopy-<key>.partial` (the key
 * is the change's journal id): a kill leaves it as a partial, which the next writer start removes
 * like any other, and the app was never stopped.
 *
 * Which pre-copied file the backup may take instead of copying it again (git's "racy" rule): its
 * source must be the same inode with the same size, mtime and ctime after the stop as right after
 * the pre-copy read it, and that ctime must be older than the moment the pre-copy began. Every
 * write, truncate, chmod or chown moves a file's ctime to "now" and nothing can set it back, so a
 * ctime older than the pre-copy that did not move means the bytes read during the pre-copy — and
 * hashed as they were written — are the bytes at the stop. The margin covers coarse file-system
 * timestamps. Not covered, as for rsync: a writer through a shared mapping (mmap) whose pages
 * were already dirty before the pre-copy and that never syncs them.
 */

export const PRECOPY_FACTS = 'precopy.json';
const STAGING = /^precopy-[A-Za-z0-9][A-Za-z0-9-]*\.partial$/;
/** Files changed less than this before the pre-copy began are copied again after the stop (coarse timestamps, clocks of other file systems). */
export const PRECOPY_MARGIN_MS = 2000;

/** A file's identity as the kernel keeps it; bigints as decimal strings, so it survives JSON. */
interface Identity {
  readonly dev: string;
  readonly ino: string;
  readonly size: string;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
}

interface PrecopiedFile extends FileFacts {
  readonly identity: Identity;
}

/** What a pre-copy holds: by path in the backup, the files the backup may take as they are. */
export interface PrecopyRecord {
  readonly key: string;
  readonly files: Record<string, PrecopiedFile>;
  /** The volumes it copied: the backup after the stop takes them from here instead of asking Docker again. */
  readonly volumes: Array<{ name: string; mountpoint: string }>;
  /** Bytes copied, the files the backup may take among them or not. */
  readonly bytes: number;
}

/** The staging directory's name for a change; a name the store's partial cleanup also matches. */
export function precopyName(key: string): string {
  const name = `precopy-${key}.partial`;
  if (!STAGING.test(name)) throw new DuckError('usage', `"${key}" cannot name a pre-copy (letters, digits and "-")`, { field: 'key' });
  return name;
}

export function isPrecopyName(name: string): boolean {
  return STAGING.test(name);
}

function identityOf(path: string): Identity | null {
  let stat: BigIntStats;
  try {
    stat = lstatSync(path, { bigint: true });
  } catch {
    return null;
  }
  return { dev: String(stat.dev), ino: String(stat.ino), size: String(stat.size), mtimeNs: String(stat.mtimeNs), ctimeNs: String(stat.ctimeNs) };
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

const inBackup = (part: string, rel: string): string => (rel === '' ? part : `${part}/${rel}`);

/** Copies every part of a backup into `staging` while the app runs; files that vanish meanwhile are skipped. */
export async function takePrecopy(staging: string, key: string, sources: BackupSources, marginMs = PRECOPY_MARGIN_MS): Promise<PrecopyRecord> {
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  // The file system's own clock, as the sources' ctimes are.
  const began = lstatSync(staging, { bigint: true }).ctimeNs - BigInt(marginMs) * 1_000_000n;
  const files: Record<string, PrecopiedFile> = {};
  let bytes = 0;
  for (const part of (await backupParts(sources)).parts) {
    const settled = new Map<string, Identity>();
    const facts = await copyTree(part.source, join(staging, part.rel), {
      durable: false,
      skipVanished: true,
      copied: (rel, src) => {
        const identity = identityOf(src);
        if (identity && BigInt(identity.ctimeNs) < began) settled.set(rel, identity);
      },
    });
    bytes += facts.bytes;
    for (const [rel, f] of Object.entries(facts.files)) {
      const identity = settled.get(rel);
      if (identity) files[inBackup(part.rel, rel)] = { ...f, identity };
    }
  }
  const record: PrecopyRecord = { key, files, volumes: sources.volumes.map((v) => ({ name: v.name, mountpoint: v.mountpoint })), bytes };
  // Written last: a pre-copy without its record is never used.
  await writeFile(join(staging, PRECOPY_FACTS), JSON.stringify(record));
  return record;
}

/** The pre-copy's record, or null when there is none or it is not this change's (then the backup copies everything). */
export async function readPrecopy(staging: string, key: string): Promise<PrecopyRecord | null> {
  try {
    const record = JSON.parse(await readFile(join(staging, PRECOPY_FACTS), 'utf8')) as PrecopyRecord;
    return record.key === key && typeof record.files === 'object' && record.files !== null && Array.isArray(record.volumes) ? record : null;
  } catch {
    return null;
  }
}

/**
 * copyTree's `reuse` for one part of the backup: a file whose source did not change since the
 * pre-copy is moved from the staging directory (same file system, no byte read or written) and
 * keeps the sha256 the pre-copy took of its bytes; any other is copied again.
 */
export function reusePrecopied(staging: string, record: PrecopyRecord, part: string): NonNullable<CopyOptions['reuse']> {
  return (rel, src, dst) => {
    const path = inBackup(part, rel);
    const was = record.files[path];
    const now = was ? identityOf(src) : null;
    if (!was || !now || !sameIdentity(now, was.identity)) return null;
    const staged = join(staging, path);
    try {
      if (lstatSync(staged).size !== was.size) return null;
      renameSync(staged, dst);
    } catch {
      return null;
    }
    return was.sha256;
  };
}
