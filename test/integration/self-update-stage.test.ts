// Issue 15 point 4: staging an agent build beside the current one refuses what would leave the
// build directory (a path with .., an absolute path, a link pointing out), a build whose
// package.json names another version, and a release file with a bad field — each naming what.
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { create } from 'tar';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { entryEscapes, stageBuild } from '../../agent/src/self-update/stage.js';
import { readReleaseFile } from '../../agent/src/node/self-update.js';
import { readJournal } from '../../agent/src/self-update/journal-file.js';
import { runUpdate } from '../../agent/src/self-update/updater.js';
import { DuckError } from '../../schemas/errors.js';
import { rejection } from '../helpers/rejection.js';

const Stage = suite<{ dir: string }>('self-update stage: what a build may hold', { dir: '' });

Stage.before.each(async (ctx) => {
  ctx.dir = await makeTempDir('duck-stage-');
});
Stage.after.each(async (ctx) => {
  await removeTempDir(ctx.dir);
});

const ARTIFACT = { url: 'http://127.0.0.1/x.tar.gz', sha256: 'a'.repeat(64), size: 1 };

async function tarball(ctx: { dir: string }, version: string, extra?: (build: string) => Promise<void>): Promise<string> {
  const build = join(ctx.dir, 'src', `duck-${version}-linux-x64`);
  await mkdir(join(build, 'lib'), { recursive: true });
  await writeFile(join(build, 'package.json'), JSON.stringify({ name: 'duck', version }));
  await writeFile(join(build, 'duck'), '#!/bin/sh\n', { mode: 0o755 });
  await extra?.(build);
  const file = join(ctx.dir, `duck-${version}.tar.gz`);
  await create({ gzip: true, cwd: join(ctx.dir, 'src'), file, portable: true }, [`duck-${version}-linux-x64`]);
  return file;
}

Stage('a whole build is renamed to its version; nothing else is left', async (ctx) => {
  const builds = join(ctx.dir, 'builds');
  const file = await tarball(ctx, '0.2.0', (b) => symlink('../package.json', join(b, 'lib', 'inside')));
  const dir = await stageBuild(file, { buildsDir: builds, version: '0.2.0', artifact: ARTIFACT });
  assert.is(dir, join(builds, '0.2.0'));
  assert.equal((await readdir(builds)).sort(), ['0.2.0']);
});

Stage('a link pointing out of the build is refused and nothing is staged', async (ctx) => {
  const builds = join(ctx.dir, 'builds');
  const file = await tarball(ctx, '0.2.0', (b) => symlink('/etc/passwd', join(b, 'lib', 'evil')));
  const err = await rejection(stageBuild(file, { buildsDir: builds, version: '0.2.0', artifact: ARTIFACT }));
  assert.instance(err, DuckError);
  assert.match(err.message, /lib\/evil: symbolic link to \/etc\/passwd leaves the build directory/);
  assert.equal(await readdir(builds), []);
});

Stage('a build whose package.json names another version is refused', async (ctx) => {
  const builds = join(ctx.dir, 'builds');
  const file = await tarball(ctx, '0.9.0');
  const err = await rejection(stageBuild(file, { buildsDir: builds, version: '0.2.0', artifact: ARTIFACT }));
  assert.match(err.message, /package\.json \/version is "0\.9\.0", not 0\.2\.0/);
  assert.equal(await readdir(builds), []);
});

Stage('entries leaving the directory are named', () => {
  const root = '/b/.staging-1';
  assert.is(entryEscapes(root, 'top/lib/x.mjs', { type: 'File' }), null);
  assert.match(entryEscapes(root, 'top/../../etc/cron.d/x', { type: 'File' }) ?? '', /leaves/);
  assert.match(entryEscapes(root, '/etc/x', { type: 'File' }) ?? '', /leaves/);
  assert.match(entryEscapes(root, 'top/lib/l', { type: 'SymbolicLink', linkpath: '../../..' }) ?? '', /symbolic link/);
  assert.is(entryEscapes(root, 'top/lib/l', { type: 'SymbolicLink', linkpath: '../duck' }), null);
  assert.match(entryEscapes(root, 'top/lib/h', { type: 'Link', linkpath: '../outside' }) ?? '', /hard link/);
  assert.match(entryEscapes(root, 'top/dev/sda', { type: 'BlockDevice' }) ?? '', /BlockDevice/);
});

Stage('a release file with a bad field names the file and the field', async (ctx) => {
  const file = join(ctx.dir, 'agent.yaml');
  await writeFile(file, 'version: 0.2.0\nartifacts:\n  linux-x64: { url: "http://h/x.tar.gz", sha256: ABC, size: 3 }\n');
  const err = await rejection(readReleaseFile(file));
  // The agent-release schema's message, as the channel's reader gives it, with the line and column.
  assert.match(err.message, new RegExp(`${file}:3:\\d+: /artifacts/linux-x64/sha256: must be sha256 hex`));
  assert.is(err.data.field, '/artifacts/linux-x64/sha256');
});

Stage('a release file with a key agent.yaml does not have is refused, naming the file and the key', async (ctx) => {
  const file = join(ctx.dir, 'agent.yaml');
  await writeFile(file, 'version: 0.2.0\nartifacts:\n  linux-x64: { url: "http://h/x.tar.gz", sha256: "' + 'a'.repeat(64) + '", size: 3, md5: abc }\n');
  const err = await rejection(readReleaseFile(file));
  assert.match(err.message, new RegExp(`${file}:3:\\d+: /artifacts/linux-x64: unknown key "md5"`));
  assert.is(err.data.file, file);
  assert.is(err.data.field, '/artifacts/linux-x64');
});

Stage('a journal of a later format is not acted on', async (ctx) => {
  await mkdir(join(ctx.dir, 'self-update'));
  await writeFile(join(ctx.dir, 'self-update', 'journal.json'), JSON.stringify({ format: 2, step: 'switch' }));
  const err = await rejection(readJournal(ctx.dir));
  assert.match(err.message, /journal\.json: \/format: journal format 2 is not one this updater reads \(1\)/);
});

Stage('an agent that does not run from a build (no current link) refuses to update itself', async (ctx) => {
  const release = { version: '0.2.0', notes: '', artifacts: { 'linux-x64': ARTIFACT }, digest: 'd'.repeat(64), commit: '' };
  const deps = {
    stateDir: join(ctx.dir, 'state'),
    buildsDir: join(ctx.dir, 'builds'),
    configFile: join(ctx.dir, 'agent.yaml'),
    healthTimeoutMs: 1000,
    service: { kind: 'detached' as const, startUpdater: async () => undefined, stopAgent: async () => undefined, startAgent: async () => undefined },
    now: () => new Date(),
    log: () => undefined,
    running: '0.1.0',
  };
  const err = await rejection(runUpdate({ release, platform: 'linux-x64' }, deps));
  assert.match(err.message, /builds\/current: no such link: this agent does not run from a build/);
  assert.is(await readJournal(deps.stateDir), null, 'nothing journalled');
});

Stage.run();
