// e2e lane: own compose project
// Images on a real Docker engine (DESIGN §4.3 step 2): an archive served over HTTP is downloaded,
// loaded, named and checked against the release's id; a wrong archive or id is refused; an image
// already there is never fetched again; a digest ref is pulled from a real registry on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDockerCli } from '../../agent/src/adapters/docker-cli.js';
import type { DockerEngine } from '../../agent/src/ports.js';
import { ensureImages, type EnsureImagesContext } from '../../agent/src/apply/images.js';
import type { ImageSpec } from '../../schemas/index.js';
import { freeHostPort } from '../../examples/harness/compose-project.js';
import { requireDocker, uniqueProjectName } from '../helpers/docker.js';
import { startFileServer, type FileServer } from '../helpers/file-server.js';
import { buildBusyboxImage, imageId, saveImage } from '../helpers/images.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';
import { rejection } from '../helpers/rejection.js';

await requireDocker();

interface Calls {
  load: number;
  pull: number;
  tag: number;
}

/** The real CLI, counting the calls that fetch or change images: "nothing fetched" is counted, not assumed. */
function countingDocker(): { docker: DockerEngine; calls: Calls } {
  const real = createDockerCli();
  const calls: Calls = { load: 0, pull: 0, tag: 0 };
  return {
    calls,
    docker: {
      ...real,
      load: (file, opts) => (calls.load++, real.load(file, opts)),
      pull: (ref, opts) => (calls.pull++, real.pull(ref, opts)),
      tag: (source, target) => (calls.tag++, real.tag(source, target)),
    },
  };
}

async function docker(...args: string[]): Promise<void> {
  await run('docker', args);
}

/** Removes names and ids a test made; whatever is already gone is fine. */
async function removeImages(refs: string[]): Promise<void> {
  for (const ref of refs) await run('docker', ['image', 'rm', ref], { allowFailure: true });
}

// ── archives ─────────────────────────────────────────────────────────────────────────────────────

interface ArchiveCtx {
  root: string;
  server: FileServer;
  releaseDir: string;
  downloadsDir: string;
  /** The image's name, made unique per run; other names derive from it. */
  ref: string;
  id: string;
  archive: { url: string; sha256: string; size: number };
  docker: DockerEngine;
  calls: Calls;
}

const archives = suite<ArchiveCtx>('ensureImages from archives (real Docker)', {} as ArchiveCtx);

archives.before(async (ctx) => {
  try {
    const unique = uniqueProjectName('t');
    ctx.ref = `duck-e2e-images:${unique}`;
    // Unique content gives a unique image id, so removing it cannot touch another test's image.
    ctx.id = await buildBusyboxImage(ctx.ref, { '/www/index.html': `images test ${unique}\n` });
    ctx.root = await makeTempDir('duck-e2e-images-');
    const file = join(ctx.root, 'served', 'app.tar');
    const saved = await saveImage(ctx.ref, file);
    await removeImages([ctx.ref]);
    assert.is(await imageId(ctx.id), null, 'the image is gone before the tests start');
    ctx.server = await startFileServer({ root: join(ctx.root, 'served') });
    ctx.archive = { url: ctx.server.url('app.tar'), ...saved };
    ctx.releaseDir = join(ctx.root, 'release');
    await mkdir(join(ctx.releaseDir, 'images'), { recursive: true });
    await copyFile(file, join(ctx.releaseDir, 'images', 'app.tar'));
    ({ docker: ctx.docker, calls: ctx.calls } = countingDocker());
  } catch (err) {
    console.error('images e2e setup failed:', err);
    throw err;
  }
});

archives.before.each((ctx) => {
  ctx.server.resetLog();
  Object.assign(ctx.calls, { load: 0, pull: 0, tag: 0 });
});

archives.after(async (ctx) => {
  await ctx.server?.close();
  await removeImages([ctx.ref, `${ctx.ref}-other`, ctx.id].filter(Boolean));
  if (ctx.root) await removeTempDir(ctx.root);
});

function context(ctx: ArchiveCtx, downloadsDir = join(ctx.root, 'downloads')): EnsureImagesContext {
  return { releaseDir: ctx.releaseDir, downloadsDir, docker: ctx.docker, retries: 1 };
}

archives('an archive with a wrong sha256 is refused before anything is loaded', async (ctx) => {
  const downloads = join(ctx.root, 'downloads-wrong');
  const spec: ImageSpec = { ref: ctx.ref, id: ctx.id, archive: { ...ctx.archive, sha256: 'f'.repeat(64) } };
  const err = await rejection(ensureImages([spec], context(ctx, downloads)));
  assert.is(err.code, 'digest-mismatch');
  assert.match(err.message, 'f'.repeat(64));
  assert.match(err.message, ctx.archive.sha256);
  assert.equal(ctx.calls, { load: 0, pull: 0, tag: 0 });
  assert.equal(await readdir(downloads), [], 'the bad download is deleted');
  assert.is(await imageId(ctx.ref), null);
});

archives('an id that does not match the loaded image is digest-mismatch, and the name is taken off again', async (ctx) => {
  const wrongId = `sha256:${'0'.repeat(64)}`;
  const err = await rejection(ensureImages([{ ref: ctx.ref, id: wrongId, archive: ctx.archive }], context(ctx, join(ctx.root, 'downloads-id'))));
  assert.is(err.code, 'digest-mismatch');
  assert.match(err.message, wrongId);
  assert.match(err.message, ctx.id);
  assert.is(ctx.calls.load, 1, 'the archive itself was fine and loaded');
  assert.is(await imageId(ctx.ref), null, 'no compose up can run the unchecked image by its name');
});

archives('downloads and loads an archive over HTTP, and ref resolves to the release id', async (ctx) => {
  const progress: number[] = [];
  const result = await ensureImages([{ ref: ctx.ref, id: ctx.id, archive: ctx.archive }], {
    ...context(ctx),
    onProgress: (p) => progress.push(p.bytes),
  });
  assert.equal(result, [{ ref: ctx.ref, id: ctx.id, source: 'archive' }]);
  assert.is(await imageId(ctx.ref), ctx.id);
  assert.equal(ctx.server.requests.map((r) => [r.path, r.status, r.complete]), [['/app.tar', 200, true]]);
  assert.is(ctx.calls.load, 1);
  assert.is(progress.at(-1), ctx.archive.size);
});

archives('an image already present is not fetched again: no download request, no load', async (ctx) => {
  const result = await ensureImages([{ ref: ctx.ref, id: ctx.id, archive: ctx.archive }], context(ctx));
  assert.equal(result, [{ ref: ctx.ref, id: ctx.id, source: 'present' }]);
  assert.is(ctx.server.requests.length, 0);
  assert.equal(ctx.calls, { load: 0, pull: 0, tag: 0 });
});

archives('an image present by id under another name is named ref without fetching', async (ctx) => {
  await docker('tag', ctx.id, `${ctx.ref}-other`);
  await docker('image', 'rm', ctx.ref);
  const result = await ensureImages([{ ref: ctx.ref, id: ctx.id, archive: ctx.archive }], context(ctx));
  assert.equal(result, [{ ref: ctx.ref, id: ctx.id, source: 'present' }]);
  assert.is(await imageId(ctx.ref), ctx.id);
  assert.is(ctx.server.requests.length, 0);
  assert.equal(ctx.calls, { load: 0, pull: 0, tag: 1 });
});

archives('an archive shipped in the release directory is loaded and tagged as ref', async (ctx) => {
  // The archive names the image by its original tag; the release asks for another name.
  const ref = `${ctx.ref}-local`;
  await removeImages([ctx.ref, `${ctx.ref}-other`]);
  try {
    const result = await ensureImages([{ ref, id: ctx.id, archive: { ...ctx.archive, url: 'images/app.tar' } }], context(ctx));
    assert.equal(result, [{ ref, id: ctx.id, source: 'archive' }]);
    assert.is(await imageId(ref), ctx.id);
    assert.is(ctx.server.requests.length, 0, 'a release-relative archive is not downloaded');
    assert.equal(ctx.calls, { load: 1, pull: 0, tag: 1 });
  } finally {
    await removeImages([ref]);
  }
});

archives('a release-relative archive path that leaves the release directory is refused (unsafe-path)', async (ctx) => {
  await writeFile(join(ctx.root, 'outside.tar'), 'x');
  await symlink(join(ctx.root, 'outside.tar'), join(ctx.releaseDir, 'images', 'link.tar'));
  const ref = `${ctx.ref}-unsafe`;
  for (const url of ['../outside.tar', 'images/../../outside.tar', 'images/link.tar']) {
    const err = await rejection(ensureImages([{ ref, id: `sha256:${'1'.repeat(64)}`, archive: { ...ctx.archive, url } }], context(ctx)));
    assert.is(err.code, 'unsafe-path', `${url}: ${err.message}`);
  }
  assert.is(ctx.calls.load, 0);
});

archives.run();

// ── pull by digest from a real registry on loopback ──────────────────────────────────────────────

const REGISTRY_BIN = process.env.DUCK_DOCKER_REGISTRY ?? '/usr/bin/docker-registry';

interface PullCtx {
  root: string;
  registry: ChildProcess;
  /** `127.0.0.1:<port>/duck-e2e-pull@sha256:…` */
  digestRef: string;
  id: string;
  /** A `docker save` of the digest ref, in the release directory `<root>/release`. */
  archive: { url: string; sha256: string; size: number };
  docker: DockerEngine;
  calls: Calls;
}

const pulls = suite<PullCtx>('ensureImages pulls by digest (real Docker, local registry)', {} as PullCtx);

pulls.before(async (ctx) => {
  try {
    ctx.root = await makeTempDir('duck-e2e-registry-');
    const port = await freeHostPort();
    ctx.registry = await startRegistry(ctx.root, port);
    const unique = uniqueProjectName('t');
    // dockerd treats 127.0.0.0/8 registries as insecure-allowed: plain HTTP works without config.
    const tagged = `127.0.0.1:${port}/duck-e2e-pull:${unique}`;
    ctx.id = await buildBusyboxImage(tagged, { '/www/index.html': `pull test ${unique}\n` });
    await docker('push', tagged);
    const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{json .RepoDigests}}', tagged]);
    const digests = JSON.parse(stdout.toString()) as string[];
    ctx.digestRef = digests.find((d) => d.startsWith(`127.0.0.1:${port}/`)) ?? '';
    assert.match(ctx.digestRef, /@sha256:[a-f0-9]{64}$/);
    const saved = await saveImage(ctx.digestRef, join(ctx.root, 'release', 'image.tar'));
    ctx.archive = { url: 'image.tar', ...saved };
    await removeImages([tagged, ctx.digestRef]);
    assert.is(await imageId(ctx.id), null, 'the image is only in the registry before the tests start');
    ({ docker: ctx.docker, calls: ctx.calls } = countingDocker());
  } catch (err) {
    console.error('registry e2e setup failed:', err);
    throw err;
  }
});

pulls.after(async (ctx) => {
  await removeImages([ctx.digestRef, ctx.id].filter(Boolean));
  if (ctx.registry && ctx.registry.exitCode === null) {
    const exited = new Promise((resolve) => ctx.registry.once('exit', resolve));
    ctx.registry.kill('SIGTERM');
    await exited;
  }
  if (ctx.root) await removeTempDir(ctx.root);
});

pulls('an archive cannot stand in for a digest ref: Docker keeps no registry digest on load, so it is refused', async (ctx) => {
  const context: EnsureImagesContext = { releaseDir: join(ctx.root, 'release'), downloadsDir: join(ctx.root, 'downloads'), docker: ctx.docker };
  const err = await rejection(ensureImages([{ ref: ctx.digestRef, archive: ctx.archive }], context));
  assert.is(err.code, 'invalid');
  assert.match(err.message, 'registry digest');
  assert.is(ctx.calls.load, 1);
  assert.is(await imageId(ctx.digestRef), null, 'compose would still have to pull this ref');
  Object.assign(ctx.calls, { load: 0, pull: 0, tag: 0 });
});

pulls('pulls an image by its digest ref and checks the id', async (ctx) => {
  const context: EnsureImagesContext = { releaseDir: ctx.root, downloadsDir: join(ctx.root, 'downloads'), docker: ctx.docker };
  const result = await ensureImages([{ ref: ctx.digestRef, id: ctx.id }], context);
  assert.equal(result, [{ ref: ctx.digestRef, id: ctx.id, source: 'pull' }]);
  assert.is(await imageId(ctx.digestRef), ctx.id);
  assert.is(ctx.calls.pull, 1);
});

pulls('a digest ref already present is not pulled again', async (ctx) => {
  const context: EnsureImagesContext = { releaseDir: ctx.root, downloadsDir: join(ctx.root, 'downloads'), docker: ctx.docker };
  const result = await ensureImages([{ ref: ctx.digestRef }], context);
  assert.equal(result, [{ ref: ctx.digestRef, id: ctx.id, source: 'present' }]);
  assert.is(ctx.calls.pull, 1, 'still the one pull of the test before');
});

pulls('a digest ref whose image has another id than the release says is digest-mismatch', async (ctx) => {
  const context: EnsureImagesContext = { releaseDir: ctx.root, downloadsDir: join(ctx.root, 'downloads'), docker: ctx.docker };
  const wrongId = `sha256:${'2'.repeat(64)}`;
  const err = await rejection(ensureImages([{ ref: ctx.digestRef, id: wrongId }], context));
  assert.is(err.code, 'digest-mismatch');
  assert.match(err.message, wrongId);
  assert.match(err.message, ctx.id);
});

/**
 * Debian's docker-registry (the CNCF distribution registry), listening on 127.0.0.1 only, storing
 * under `root`. A missing binary fails the suite: this test must not pass without pulling.
 */
async function startRegistry(root: string, port: number): Promise<ChildProcess> {
  const config = join(root, 'registry.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${JSON.stringify(join(root, 'data'))} } }`,
      `http: { addr: "127.0.0.1:${port}", secret: duck-e2e }`,
      '',
    ].join('\n'),
  );
  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) =>
      reject(new Error(`cannot start ${REGISTRY_BIN} (${err.message}): install Debian's docker-registry package (or set DUCK_DOCKER_REGISTRY)`)),
    );
    child.once('exit', (code) => reject(new Error(`${REGISTRY_BIN} exited with ${code}: ${stderr.trim()}`)));
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const up = await Promise.race([
      fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false),
      failed,
    ]);
    if (up) return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${REGISTRY_BIN} did not answer on 127.0.0.1:${port} within 15 s: ${stderr.trim()}`);
}

pulls.run();
