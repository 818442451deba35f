// `duck release add`: a build output directory becomes releases/<app>/<version>/ with a
// release.yaml that pins every image and lists a sha256 for every file (DESIGN §2, §3). A version
// that exists already, on disk or in the last commit, is never overwritten: published is immutable.
import { copyFile, lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ImageSpec, ReleaseFile } from '../../../schemas/index.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { hashFile } from '../apply/tree-copy.js';
import { DuckError } from '../../../schemas/errors.js';
import { invalidName } from '../core/overlay-edits.js';
import { AGENT_PIN } from '../core/overlay-pins.js';
import { readBuildDir } from './build-dir.js';
import { checkCompose, unlistedImages } from './compose-check.js';
import { readDockerArchive } from './docker-archive.js';
import { formatProblem } from './lint-problem.js';
import { openLocalRepo } from './local-repo.js';
import { composeRelease, renderRelease } from './release-document.js';

export interface AddOptions {
  readonly channel: string;
  readonly app: string;
  readonly version: string;
  readonly from: string;
  readonly notes?: string | undefined;
  /** Archives are served from here (`<url>/<file>.tar`) instead of shipping in the release directory. */
  readonly archiveBaseUrl?: string | undefined;
}

export interface AddResult {
  /** The release directory inside the channel: releases/<app>/<version>. */
  readonly dir: string;
  readonly release: ReleaseFile;
  /** Archives to upload under --archive-base-url (absolute paths), in release order. */
  readonly uploads: readonly string[];
  readonly warnings: readonly string[];
}

export async function addRelease(opts: AddOptions): Promise<AddResult> {
  const bad = invalidName('app', opts.app) ?? invalidName('version', opts.version);
  if (bad) throw new DuckError('usage', bad);
  if (opts.app === AGENT_PIN) {
    throw new DuckError('usage', `no app may be named "${AGENT_PIN}": a node's overlay pins the agent's own version as pin.${AGENT_PIN} (the agent's builds: duck release agent add)`);
  }
  if (opts.archiveBaseUrl !== undefined && !/^https?:\/\/\S+$/.test(opts.archiveBaseUrl)) {
    throw new DuckError('usage', `--archive-base-url ${opts.archiveBaseUrl}: must be an http(s) URL`);
  }
  const dir = `releases/${opts.app}/${opts.version}`;
  const target = join(opts.channel, ...dir.split('/'));
  await assertUnpublished(opts.channel, dir, target);

  const build = await readBuildDir(opts.from);
  const composePath = join(opts.from, build.composeFile);
  const compose = checkCompose(await readFile(composePath, 'utf8'), composePath);
  if (compose.problems[0]) throw problemError(compose.problems[0]);

  const warnings: string[] = [];
  const archived: ImageSpec[] = [];
  const files: Record<string, string> = {};
  for (const file of build.files) files[file] = await hashFile(join(opts.from, file));
  for (const archive of build.archives) {
    const read = await readDockerArchive(join(opts.from, archive));
    const url = opts.archiveBaseUrl ? `${opts.archiveBaseUrl.replace(/\/+$/, '')}/${basename(archive)}` : archive;
    for (const image of read.images) archived.push({ ref: image.ref, id: image.id, archive: { url, sha256: read.sha256, size: read.size } });
    if (!opts.archiveBaseUrl) {
      files[archive] = read.sha256;
      if (read.size > DEFAULT_LIMITS.maxFileBytes) {
        warnings.push(`${archive}: ${read.size} bytes is over the ${DEFAULT_LIMITS.maxFileBytes}-byte file limit of agents with default limits; serve it over HTTP with --archive-base-url`);
      }
    }
  }

  const releaseFile = `${dir}/release.yaml`;
  const release = composeRelease({ app: opts.app, version: opts.version, base: build.base, archived, files, notes: opts.notes }, releaseFile);
  const unlisted = unlistedImages(compose.images, (release.images ?? []).map((i) => i.ref), composePath);
  if (unlisted[0]) {
    throw problemError({
      ...unlisted[0],
      message: `${unlisted[0].message}; or put its \`docker save\` archive in ${join(opts.from, 'images')}/`,
    });
  }

  await mkdir(dirname(target), { recursive: true });
  await mkdir(target);
  try {
    for (const file of [...build.files, ...(opts.archiveBaseUrl ? [] : build.archives)]) {
      await mkdir(dirname(join(target, file)), { recursive: true });
      await copyFile(join(opts.from, file), join(target, file));
    }
    await writeFile(join(target, 'release.yaml'), renderRelease(release));
  } catch (err) {
    // Half a release directory would lint as a broken release: leave nothing behind.
    await rm(target, { recursive: true, force: true });
    throw err;
  }
  const uploads = opts.archiveBaseUrl ? build.archives.map((a) => join(opts.from, a)) : [];
  return { dir, release, uploads, warnings };
}

/** A directory of the channel that exists, on disk or in the last commit, is published: never overwritten. */
export async function assertUnpublished(channel: string, dir: string, target: string): Promise<void> {
  if (await lstat(target).then(() => true, () => false)) {
    throw new DuckError('usage', `${dir} exists already: a published release never changes (publish a new version)`, { file: dir });
  }
  const repo = await openLocalRepo(channel).catch(() => null);
  const head = repo ? await repo.head() : null;
  if (repo && head && (await (await repo.treeAt(head)).listFiles(dir)).length > 0) {
    throw new DuckError('usage', `${dir} is in the last commit (${head.slice(0, 12)}) though not on disk: a published release never changes (restore it with git checkout -- ${dir})`, {
      file: dir,
    });
  }
}

function problemError(p: Parameters<typeof formatProblem>[0]): DuckError {
  // A bad build directory is the publisher's input, not an invalid channel: exit 1, not 3.
  return new DuckError('config', formatProblem(p), { file: p.file, line: p.line, column: p.column, field: p.field });
}
