/**
 * Makes a release's images present (DESIGN §4.3 step 2): pulled by digest, or loaded from an
 * archive (downloaded, or shipped in the release directory), and checked against the release's
 * image id. It runs while the old version still serves, so it only adds images and names: it
 * stops nothing, removes no image in use, and fetches nothing that is already there.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { ImageArchive, ImageSpec } from '../../../schemas/index.js';
import type { DockerEngine } from '../ports.js';
import { DuckError } from '../../../schemas/errors.js';
import { downloadArchive, fileDigest, type DownloadProgress } from './archive-download.js';

export interface EnsureImagesContext {
  /** The release's directory on disk: relative archive paths resolve here, and never leave it. */
  releaseDir: string;
  /** Where downloaded archives are kept (`<sha256>.tar`, `<sha256>.part` while downloading). */
  downloadsDir: string;
  docker: DockerEngine;
  /** Download progress, with the image it is for. */
  onProgress?: (progress: DownloadProgress & { ref: string }) => void;
  signal?: AbortSignal;
  /** Retries of a download after the first try (default: downloadArchive's). */
  retries?: number;
}

/** How an image came to be present. */
export type ImageSource = 'present' | 'archive' | 'pull';

export interface EnsuredImage {
  ref: string;
  /** The image id `ref` resolves to now. */
  id: string;
  source: ImageSource;
}

const DIGEST_REF = /@sha256:[a-f0-9]{64}$/;

/**
 * For each image, in order: nothing when `ref` already resolves to it (by `id` when given, else
 * the digest ref is there); else the archive (downloaded or from the release directory), `docker
 * load`, and a tag when the archive did not name the image `ref`; else `docker pull ref`. Ends with
 * `ref` resolving to `id` when one is given (`digest-mismatch` otherwise).
 */
export async function ensureImages(images: readonly ImageSpec[], ctx: EnsureImagesContext): Promise<EnsuredImage[]> {
  const ensured: EnsuredImage[] = [];
  for (const [index, spec] of images.entries()) {
    ctx.signal?.throwIfAborted();
    ensured.push(await ensureImage(spec, index, ctx));
  }
  return ensured;
}

async function ensureImage(spec: ImageSpec, index: number, ctx: EnsureImagesContext): Promise<EnsuredImage> {
  const present = await presentId(spec, index, ctx.docker);
  if (present !== null) return { ref: spec.ref, id: present, source: 'present' };

  if (spec.archive) {
    const file = await archiveFile(spec.archive, spec.ref, ctx);
    const before = await ctx.docker.imageInspect(spec.ref);
    const loaded = await ctx.docker.load(file, { signal: ctx.signal });
    return { ref: spec.ref, id: await nameLoaded(spec, index, loaded, { file, before: before?.id ?? null }, ctx.docker), source: 'archive' };
  }

  if (spec.id === undefined && !DIGEST_REF.test(spec.ref)) {
    // The schema requires this; a hand-made spec must not pull whatever a tag points at today.
    throw new DuckError('invalid', `image ${spec.ref}: neither pinned by digest nor given an id`, { field: `/images/${index}/ref` });
  }
  await ctx.docker.pull(spec.ref, { signal: ctx.signal });
  const pulled = await ctx.docker.imageInspect(spec.ref);
  if (pulled === null) throw new DuckError('docker', `docker pull ${spec.ref} succeeded but Docker has no image by that name`, { ref: spec.ref });
  if (spec.id !== undefined && pulled.id !== spec.id) throw idMismatch(spec.ref, index, spec.id, pulled.id, 'pulled');
  return { ref: spec.ref, id: pulled.id, source: 'pull' };
}

/**
 * The id `ref` resolves to when the image is already there, or null when it must be fetched. An
 * image present by id but missing its (tag) name is named again: a tag costs no download.
 */
async function presentId(spec: ImageSpec, index: number, docker: DockerEngine): Promise<string | null> {
  const byRef = await docker.imageInspect(spec.ref);
  if (spec.id === undefined) return byRef?.id ?? null;
  if (byRef?.id === spec.id) return spec.id;
  if (DIGEST_REF.test(spec.ref)) {
    // A digest names content: a registry would give the same other image again.
    if (byRef !== null) throw idMismatch(spec.ref, index, spec.id, byRef.id, 'present');
    return null;
  }
  if ((await docker.imageInspect(spec.id)) === null) return null;
  await docker.tag(spec.id, spec.ref);
  return spec.id;
}

/** The archive on disk: downloaded (resumable, checked) or the release's own file (checked here). */
async function archiveFile(archive: ImageArchive, ref: string, ctx: EnsureImagesContext): Promise<string> {
  if (/^https?:\/\//i.test(archive.url)) {
    return downloadArchive(archive, {
      dir: ctx.downloadsDir,
      signal: ctx.signal,
      ...(ctx.retries === undefined ? {} : { retries: ctx.retries }),
      ...(ctx.onProgress ? { onProgress: (p: DownloadProgress) => ctx.onProgress?.({ ...p, ref }) } : {}),
    });
  }
  const file = await releaseFile(ctx.releaseDir, archive.url);
  // The release's file list checked this file already; the archive's own sha256 and size must agree
  // too, or the release contradicts itself and nothing should be loaded.
  const found = await fileDigest(file);
  if (found === null) throw new DuckError('not-found', `image archive ${archive.url} is not in the release directory`, { file: archive.url });
  if (found.size > archive.size) {
    throw new DuckError('too-large', `image archive ${archive.url} has ${found.size} bytes, more than its declared ${archive.size}`, { file: archive.url });
  }
  if (found.size !== archive.size || found.sha256 !== archive.sha256) {
    throw new DuckError(
      'digest-mismatch',
      `image archive ${archive.url}: expected sha256 ${archive.sha256} (${archive.size} bytes), got sha256 ${found.sha256} (${found.size} bytes)`,
      { file: archive.url, expected: archive.sha256, actual: found.sha256 },
    );
  }
  return file;
}

/** `path` inside `root`, refusing absolute paths, `..` and symlinks that lead out. */
async function releaseFile(root: string, path: string): Promise<string> {
  const unsafe = (why: string): DuckError => new DuckError('unsafe-path', `image archive path "${path}" ${why}`, { file: path, field: 'archive.url' });
  if (isAbsolute(path) || path.includes('\\') || path.split('/').some((part) => part === '..' || part === '')) {
    throw unsafe('must be a relative path inside the release directory');
  }
  let realRoot: string;
  let realFile: string;
  try {
    realRoot = await realpath(root);
    realFile = await realpath(join(root, path));
  } catch (err) {
    throw new DuckError('not-found', `image archive ${path} is not in the release directory ${root}`, { file: path }, undefined, { cause: err });
  }
  const inside = relative(realRoot, realFile);
  if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
    throw unsafe('leads out of the release directory');
  }
  return realFile;
}

/**
 * After `docker load`: find the image the release means among those loaded, name it `ref` if the
 * archive did not, and check `ref` now resolves to the release's id.
 */
async function nameLoaded(
  spec: ImageSpec,
  index: number,
  loaded: { refs: string[]; ids: string[] },
  { file, before }: { file: string; before: string | null },
  docker: DockerEngine,
): Promise<string> {
  const loadedIds = new Set(loaded.ids);
  for (const name of loaded.refs) {
    const info = await docker.imageInspect(name);
    if (info) loadedIds.add(info.id);
  }
  if (loadedIds.size === 0) throw new DuckError('docker', `docker load of ${file} reported no image`, { file, ref: spec.ref });

  let wanted: string;
  if (spec.id !== undefined) {
    if (!loadedIds.has(spec.id)) {
      await restoreName(spec.ref, before, loadedIds, docker);
      throw idMismatch(spec.ref, index, spec.id, [...loadedIds].join(', '), 'loaded');
    }
    wanted = spec.id;
  } else if (loadedIds.size === 1) {
    wanted = [...loadedIds][0]!;
  } else {
    const named = await docker.imageInspect(spec.ref);
    if (named === null || !loadedIds.has(named.id)) {
      throw new DuckError('invalid', `image ${spec.ref}: archive ${file} holds ${loadedIds.size} images and none is named ${spec.ref}`, {
        field: `/images/${index}`,
      });
    }
    wanted = named.id;
  }

  const current = await docker.imageInspect(spec.ref);
  if (current?.id !== wanted) {
    if (DIGEST_REF.test(spec.ref)) {
      // Docker's classic image store keeps no registry digest for a loaded image, and a digest
      // cannot be tagged: compose would try to pull this ref. Say so rather than fail at `up`.
      throw new DuckError(
        'invalid',
        `image ${spec.ref}: loaded ${wanted} from ${file}, but Docker cannot name a loaded image by a registry digest; ` +
          'give the release a tag ref (repo:tag) and the image id for archives',
        { field: `/images/${index}/ref` },
      );
    }
    await docker.tag(wanted, spec.ref);
  }
  const final = await docker.imageInspect(spec.ref);
  if (final?.id !== wanted) throw idMismatch(spec.ref, index, wanted, final?.id ?? 'nothing', 'tagged');
  return wanted;
}

/**
 * A wrong archive that carried the name `ref` has just moved that name onto an image nobody checked:
 * give the name back to the image it named before, or take it off, so no `compose up` runs the
 * wrong image. Best effort, never forced: an image in use stays.
 */
async function restoreName(ref: string, before: string | null, loadedIds: Set<string>, docker: DockerEngine): Promise<void> {
  const named = await docker.imageInspect(ref).catch(() => null);
  if (named === null || !loadedIds.has(named.id) || named.id === before) return;
  if (before !== null) await docker.tag(before, ref).catch(() => undefined);
  else await docker.removeImage(ref).catch(() => undefined);
}

function idMismatch(ref: string, index: number, expected: string, actual: string, what: string): DuckError {
  return new DuckError('digest-mismatch', `image ${ref}: the release expects id ${expected}, the ${what} image is ${actual}`, {
    field: `/images/${index}/id`,
    ref,
    expected,
    actual,
  });
}
