import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsError } from './fs-error.js';

/** What a backup copies: data paths under the data directory, volumes, and the release directory. */
export interface BackupSources {
  readonly dataDir: string;
  readonly paths: readonly string[];
  readonly volumes: ReadonlyArray<{ name: string; mountpoint: string }>;
  readonly releaseDir: string | null;
}

/** One tree a backup copies, and where in the backup it goes (`data/<path>`, `volumes/<name>`, `release`). */
export interface BackupPart {
  readonly source: string;
  readonly rel: string;
}

/**
 * The trees of a backup in the order it copies them, and the data paths that do not exist (a
 * restore removes them again). The pre-copy and the backup after the stop read the same list.
 */
export async function backupParts(sources: BackupSources): Promise<{ parts: BackupPart[]; absent: string[] }> {
  const parts: BackupPart[] = [];
  const absent: string[] = [];
  for (const path of sources.paths) {
    const source = join(sources.dataDir, path);
    // lstat, not stat: a data path that is a dangling link is a link to keep, not an absence.
    if (await exists(source)) parts.push({ source, rel: `data/${path}` });
    else absent.push(path);
  }
  for (const volume of sources.volumes) parts.push({ source: volume.mountpoint, rel: `volumes/${volume.name}` });
  if (sources.releaseDir && (await exists(sources.releaseDir))) parts.push({ source: sources.releaseDir, rel: 'release' });
  return { parts, absent };
}

/** True when something, even a dangling symlink, is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw fsError(path, 'cannot read', err);
  }
}
