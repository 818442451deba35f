import { createHash, randomBytes } from 'node:crypto';
import type { ReleaseFile } from '../../../schemas/index.js';
import { parseYaml } from '../../../schemas/index.js';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ReleaseContent } from '../channel/read-release.js';
import type { CommitTree } from '../channel/commit-tree.js';
import { DuckError } from '../../../schemas/errors.js';
import type { AppLayout } from './app-layout.js';
import { isDirectory } from './app-layout.js';

/**
 * DESIGN §4.3 step 1: the release's files, read from the accepted commit by object id, go into a
 * new directory. A directory already there is kept only if every file still has its sha256 —
 * a retry after a crash reuses it, a tampered one is written again.
 */
export async function writeReleaseDir(layout: AppLayout, release: ReleaseContent, tree: CommitTree): Promise<string> {
  const target = layout.releaseDir(release.version);
  if ((await isDirectory(target)) && (await matches(target, release))) return target;
  const temp = `${target}.tmp-${randomBytes(4).toString('hex')}`;
  await mkdir(temp, { recursive: true });
  try {
    for (const file of release.files) {
      const bytes = await tree.readFile(`${release.dir}/${file.path}`);
      if (sha256(bytes) !== file.sha256) {
        throw new DuckError('digest-mismatch', `${release.dir}/${file.path}: content changed since it was verified`, { file: `${release.dir}/${file.path}` });
      }
      await mkdir(dirname(join(temp, file.path)), { recursive: true });
      await writeFile(join(temp, file.path), bytes, { mode: 0o644 });
    }
    await writeFile(join(temp, 'release.yaml'), await tree.readFile(`${release.dir}/release.yaml`), { mode: 0o644 });
    await rm(target, { recursive: true, force: true });
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  return target;
}

async function matches(dir: string, release: ReleaseContent): Promise<boolean> {
  for (const file of release.files) {
    try {
      if (sha256(await readFile(join(dir, file.path))) !== file.sha256) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The release.yaml kept in an installed release directory (what health, backup paths and images were). */
export async function readInstalledRelease(layout: AppLayout, version: string, dir: string = layout.releaseDir(version)): Promise<ReleaseFile> {
  const file = join(dir, 'release.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new DuckError('not-found', `${file}: the release directory of ${layout.app} ${version} is missing (${(err as Error).message})`, { file });
  }
  return parseYaml('release', text, file);
}
