// The builds directory (DESIGN §4.7): one directory per version and `current`, a relative symlink
// to the one that runs. The switch is one rename of a new link over the old, so at every instant
// `current` names a whole build.
import { readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';

export const CURRENT = 'current';

/** The version `current` points at, or null when there is no link. */
export async function currentVersion(buildsDir: string): Promise<string | null> {
  try {
    return (await readlink(join(buildsDir, CURRENT))).replace(/\/+$/, '').split('/').pop() ?? null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EINVAL') return null;
    throw err;
  }
}

/** Points `current` at `version`: a link under a temp name, renamed over the old one. */
export async function switchCurrent(buildsDir: string, version: string): Promise<void> {
  const tmp = join(buildsDir, `.current-${process.pid}`);
  await rm(tmp, { force: true });
  await symlink(version, tmp);
  await rename(tmp, join(buildsDir, CURRENT));
}

/**
 * Keeps the current build and the last good one; removes other versions and what an interrupted
 * stage left. Returns what it removed.
 */
export async function pruneBuilds(buildsDir: string, keep: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(buildsDir, { withFileTypes: true })) {
    if (entry.name === CURRENT || keep.includes(entry.name) || entry.name === '.downloads') continue;
    if (!entry.isDirectory() && !entry.name.startsWith('.')) continue;
    await rm(join(buildsDir, entry.name), { recursive: true, force: true });
    removed.push(entry.name);
  }
  return removed;
}
