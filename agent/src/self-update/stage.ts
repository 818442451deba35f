// Staging a new agent build beside the current one (DESIGN §4.7): the artifact downloaded with the
// archive code (capped at its size, sha256 while it streams, resumable), unpacked into
// `<buildsDir>/.staging-<version>`, checked, then renamed to `<buildsDir>/<version>` — so a build
// directory under its version's name is always a whole one.
import { readFile, rename, rm, mkdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { x as extract } from 'tar';
import { DuckError } from '../../../schemas/errors.js';
import type { AgentArtifact } from '../core/agent-build.js';
import type { DownloadProgress } from '../apply/archive-download.js';
import { downloadArchive } from '../apply/archive-download.js';

export interface StageOptions {
  readonly buildsDir: string;
  readonly version: string;
  readonly artifact: AgentArtifact;
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly signal?: AbortSignal;
}

/** Where downloads wait (`<sha256>.part` resumes); kept out of the way of version directories. */
export function downloadsDir(buildsDir: string): string {
  return join(buildsDir, '.downloads');
}

export function buildDir(buildsDir: string, version: string): string {
  return join(buildsDir, version);
}

/** Downloads and checks the tarball; returns its path. A refusal (too-large, digest-mismatch) deletes it. */
export async function downloadBuild(opts: StageOptions): Promise<string> {
  return downloadArchive(opts.artifact, {
    dir: downloadsDir(opts.buildsDir),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/**
 * Unpacks `tarball` (one top directory, as `npm run build:artifact` makes it) into the version's
 * directory. Refuses entries that would land outside it and links that point outside it; checks
 * the build's package.json names `version` and that it has its launcher. Returns the directory.
 */
export async function stageBuild(tarball: string, opts: StageOptions): Promise<string> {
  const staging = join(opts.buildsDir, `.staging-${opts.version}`);
  const target = buildDir(opts.buildsDir, opts.version);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true, mode: 0o755 });
  const refused: string[] = [];
  try {
    await extract({
      file: tarball,
      cwd: staging,
      strip: 1,
      strict: true,
      filter: (path, entry) => {
        const why = entryEscapes(staging, path, entry as { type?: string; linkpath?: string });
        if (why !== null) refused.push(`${path}: ${why}`);
        return why === null;
      },
    });
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw new DuckError('invalid', `agent build ${opts.version}: ${tarball} does not unpack: ${(err as Error).message}`, { file: tarball });
  }
  if (refused.length > 0) {
    await rm(staging, { recursive: true, force: true });
    throw new DuckError('invalid', `agent build ${opts.version}: ${tarball} has entries leaving its directory: ${refused.slice(0, 3).join('; ')}`, { file: tarball });
  }
  try {
    await checkBuild(staging, opts.version);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  await rm(target, { recursive: true, force: true });
  await rename(staging, target);
  return target;
}

/** Why an entry would leave `root` (its path after the top directory, or a link's target), or null. */
export function entryEscapes(root: string, path: string, entry: { type?: string; linkpath?: string }): string | null {
  const inner = path.split('/').slice(1).join('/');
  if (posix.isAbsolute(path) || path.split('/').includes('..')) return 'path leaves the build directory';
  const at = resolve(root, inner);
  if (!inside(root, at)) return 'path leaves the build directory';
  if (entry.type === 'SymbolicLink') {
    const link = entry.linkpath ?? '';
    if (isAbsolute(link) || !inside(root, resolve(dirname(at), link))) return `symbolic link to ${link} leaves the build directory`;
  }
  if (entry.type === 'Link') {
    // A hard link's target is another entry's path in the archive (the top directory included).
    const link = (entry.linkpath ?? '').split('/').slice(1).join('/');
    if (isAbsolute(entry.linkpath ?? '') || (entry.linkpath ?? '').split('/').includes('..') || !inside(root, resolve(root, link))) {
      return `hard link to ${entry.linkpath ?? ''} leaves the build directory`;
    }
  }
  if (entry.type !== undefined && !['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link'].includes(entry.type)) {
    return `entry of type ${entry.type} is not part of a build`;
  }
  return null;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** A build names its version in package.json and has its launcher `duck`. */
export async function checkBuild(dir: string, version: string): Promise<void> {
  const file = join(dir, 'package.json');
  let pkg: { version?: unknown };
  try {
    pkg = JSON.parse(await readFile(file, 'utf8')) as { version?: unknown };
  } catch (err) {
    throw new DuckError('invalid', `agent build ${version}: package.json: ${(err as Error).message}`, { file: 'package.json' });
  }
  if (pkg.version !== version) {
    throw new DuckError('invalid', `agent build ${version}: package.json /version is ${JSON.stringify(pkg.version)}, not ${version}`, { file: 'package.json', field: '/version' });
  }
  const launcher = await stat(join(dir, 'duck')).catch(() => null);
  if (launcher === null || !launcher.isFile() || (launcher.mode & 0o111) === 0) {
    throw new DuckError('invalid', `agent build ${version}: no executable launcher "duck" in the build`, { file: 'duck' });
  }
}
