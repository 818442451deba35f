import { readdir, rm, stat } from 'node:fs/promises';
import type { AppLayout } from './app-layout.js';

/**
 * Keeps the running and previous releases (a rollback needs them) plus the newest `extra` others;
 * removes older release directories. Data and volumes are never touched here.
 */
export async function pruneReleases(layout: AppLayout, keep: readonly string[], extra: number): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(layout.releasesDir);
  } catch {
    return [];
  }
  const candidates = await Promise.all(
    names.filter((n) => !keep.includes(n) && !n.includes('.tmp-')).map(async (n) => ({ n, t: (await stat(`${layout.releasesDir}/${n}`)).mtimeMs })),
  );
  const removable = candidates.sort((a, b) => b.t - a.t).slice(Math.max(0, extra - keep.length));
  for (const { n } of removable) await rm(`${layout.releasesDir}/${n}`, { recursive: true, force: true });
  return removable.map((r) => r.n);
}
