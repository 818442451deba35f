import { existsSync } from 'node:fs';
import { lstat, mkdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where one app lives on the node: a directory per release version (written once, never edited),
 * `current` pointing at the running one, the data directory the compose file mounts through
 * DUCK_DATA_DIR, and the lock directory it can mount through DUCK_LOCK_DIR.
 */
export interface AppLayout {
  readonly app: string;
  readonly dir: string;
  readonly releasesDir: string;
  readonly currentLink: string;
  readonly dataDir: string;
  readonly lockDir: string;
  /** While this file exists the app defers the stop-and-switch (balena's update lock). */
  readonly lockFile: string;
  /** One compose project per app. */
  readonly project: string;
  releaseDir(version: string): string;
}

export const COMPOSE_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

export function appLayout(appsDir: string, app: string): AppLayout {
  const dir = join(appsDir, app);
  return {
    app,
    dir,
    releasesDir: join(dir, 'releases'),
    currentLink: join(dir, 'current'),
    dataDir: join(dir, 'data'),
    lockDir: join(dir, 'lock'),
    lockFile: join(dir, 'lock', 'updates.lock'),
    project: `duck-${app}`,
    releaseDir: (version) => join(dir, 'releases', version),
  };
}

export async function ensureAppDirs(layout: AppLayout): Promise<void> {
  for (const d of [layout.releasesDir, layout.dataDir, layout.lockDir]) await mkdir(d, { recursive: true });
}

/** The version `current` points at, or null. */
export async function currentVersion(layout: AppLayout): Promise<string | null> {
  try {
    return (await readlink(layout.currentLink)).split('/').pop() ?? null;
  } catch {
    return null;
  }
}

/** rename(2) over the old link is atomic: a reader sees the old version or the new, never neither. */
export async function switchCurrent(layout: AppLayout, version: string | null): Promise<void> {
  if (version === null) {
    await rm(layout.currentLink, { force: true });
    return;
  }
  const temp = `${layout.currentLink}.next`;
  await rm(temp, { force: true });
  await symlink(join('releases', version), temp);
  await rename(temp, layout.currentLink);
}

export function composeFileIn(releaseDir: string): string {
  const found = COMPOSE_FILE_NAMES.find((name) => existsSync(join(releaseDir, name)));
  return found ?? COMPOSE_FILE_NAMES[0]!;
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}
