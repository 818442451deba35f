import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes a backup of these paths would take (regular files; a missing path counts as 0). */
export async function estimateBytes(paths: readonly string[]): Promise<number> {
  let total = 0;
  const walk = async (path: string): Promise<void> => {
    const stat = await lstat(path).catch(() => null);
    if (!stat) return;
    if (stat.isFile()) total += stat.size;
    else if (stat.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name));
  };
  for (const path of paths) await walk(path);
  return total;
}
