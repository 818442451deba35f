import { readdir, rm, stat } from 'node:fs/promises';
import type { AppLayout } from './app-layout.js';
import { readInstalledRelease } from './release-files.js';

/**
 * Keeps the running and previous releases (a rollback needs them) plus the newest others up to
 * `keepReleases` in all; removes older release directories. Returns the image references only
 * the removed releases used, for the caller to prune (DESIGN §4.3: images beyond the last K
 * releases). Data and volumes are never touched here.
 */
export async function pruneReleases(layout: AppLayout, keep: readonly string[], keepReleases: number): Promise<{ removed: string[]; unusedImages: string[] }> {
  let names: string[];
  try {
    names = (await readdir(layout.releasesDir)).filter((n) => !n.includes('.tmp-'));
  } catch {
    return { removed: [], unusedImages: [] };
  }
  const candidates = await Promise.all(names.filter((n) => !keep.includes(n)).map(async (n) => ({ n, t: (await stat(`${layout.releasesDir}/${n}`)).mtimeMs })));
  const removed = candidates
    .sort((a, b) => b.t - a.t)
    .slice(Math.max(0, keepReleases - keep.length))
    .map((c) => c.n);
  const imagesOf = async (version: string): Promise<string[]> =>
    (await readInstalledRelease(layout, version).catch(() => null))?.images?.map((i) => i.ref) ?? [];
  const doomed = new Set((await Promise.all(removed.map(imagesOf))).flat());
  for (const version of names.filter((n) => !removed.includes(n))) for (const ref of await imagesOf(version)) doomed.delete(ref);
  for (const version of removed) await rm(`${layout.releasesDir}/${version}`, { recursive: true, force: true });
  return { removed, unusedImages: [...doomed].sort() };
}
