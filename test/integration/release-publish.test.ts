// The publisher's path through `duck release`: a channel from the template, a release from a build
// directory with a real `docker save`-format archive, a promotion — each judged by the agent's own
// readers and trust code, and by GnuPG as an independent verifier.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseYaml } from '../../schemas/index.js';
import { readRelease } from '../../agent/src/channel/read-release.js';
import { openLocalRepo } from '../../agent/src/release/local-repo.js';
import { writeDockerSaveArchive } from '../helpers/docker-save-archive.js';
import type { OpenpgpTestKey } from '../../examples/harness/keys.js';
import { makeOpenpgpKey, makeVerifierHome, stopGpgAgent } from '../../examples/harness/keys.js';
import { agentAccepts, duckCli, gitIn, writeKeyFile } from '../helpers/release-cli.js';
import { rejection } from '../helpers/rejection.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';

interface Ctx {
  root: string;
  key: OpenpgpTestKey;
  keyFile: string;
  count: number;
}

const Publish = suite<Ctx>('duck release: init, add, promote', {} as Ctx);

Publish.before(async (ctx) => {
  ctx.root = await makeTempDir('duck-release-');
  ctx.key = await makeOpenpgpKey('release-bot');
  ctx.keyFile = await writeKeyFile(ctx.root, ctx.key);
  ctx.count = 0;
});
Publish.after(async (ctx) => removeTempDir(ctx.root));

async function newChannel(ctx: Ctx, ...extra: string[]): Promise<string> {
  const dir = join(ctx.root, `channel-${++ctx.count}`);
  const r = await duckCli(ctx.root, ['release', 'init', dir, '--key', ctx.keyFile, ...extra]);
  assert.is(r.code, 0, r.stderr);
  return dir;
}

const COMPOSE = 'services:\n  web:\n    image: duck-example/hello:2.0.0\n    volumes:\n      - ./config/httpd.conf:/etc/httpd.conf:ro\n';

/** A build directory: compose file, a mounted file, a docker save archive, a base release.yaml. */
async function buildDir(ctx: Ctx, tag = 'duck-example/hello:2.0.0'): Promise<{ dir: string; id: string }> {
  const dir = join(ctx.root, `build-${++ctx.count}`);
  await mkdir(join(dir, 'config'), { recursive: true });
  await writeFile(join(dir, 'compose.yaml'), COMPOSE.replace('duck-example/hello:2.0.0', tag));
  await writeFile(join(dir, 'config', 'httpd.conf'), 'H:/www\n');
  await writeFile(join(dir, 'release.yaml'), '# publisher settings\nhealth: { timeout: 45s }\nbackup: { paths: [web], volumes: [state] }\nmigrations: irreversible\n');
  const [image] = await writeDockerSaveArchive(join(dir, 'images', 'hello.tar'), [{ tag, files: { '/www/index.html': `<h1>${tag}</h1>\n` } }]);
  return { dir, id: image!.id };
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

Publish('init makes a channel that lints clean and whose signed first commit the agent accepts with that key as root', async (ctx) => {
  const dir = await newChannel(ctx);
  const lint = await duckCli(dir, ['release', 'lint']);
  assert.is(lint.code, 0, lint.stdout + lint.stderr);
  const channel = parseYaml('channel', await readFile(join(dir, 'channel.yaml'), 'utf8'), 'channel.yaml');
  assert.equal(channel.signers, [{ name: 'release-bot', key: 'keys/release-bot.asc' }]);
  assert.match(await readFile(join(dir, 'channel.yaml'), 'utf8'), ctx.key.fingerprint);
  const chain = await agentAccepts(dir, [ctx.key]);
  assert.is(chain.accepted.commit, await gitIn(dir, ['rev-parse', 'HEAD']));
  assert.is(chain.accepted.signer.fingerprint, ctx.key.fingerprint);
  // GnuPG, knowing only the public key, agrees the signature is good.
  const home = await makeVerifierHome([ctx.key]);
  try {
    const v = await run('git', ['verify-commit', '--raw', 'HEAD'], { cwd: dir, env: { ...process.env, GNUPGHOME: home }, allowFailure: true });
    assert.is(v.code, 0, v.stderr);
    assert.match(v.stderr, new RegExp(`VALIDSIG ${ctx.key.fingerprint}`));
  } finally {
    await stopGpgAgent(home);
    await removeTempDir(home);
  }
  assert.is(await gitIn(dir, ['rev-parse', '--abbrev-ref', 'HEAD']), 'main');
  assert.ok((await gitIn(dir, ['ls-files'])).includes('.github/workflows/duck-channel.yml'));
});

Publish('init without a key makes an unsigned first commit, warns that agents refuse it, and the agent does', async (ctx) => {
  const dir = join(ctx.root, `channel-${++ctx.count}`);
  const r = await duckCli(ctx.root, ['release', 'init', dir]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: .*agents refuse unsigned commits/);
  const refusal = await rejection(agentAccepts(dir, [ctx.key]));
  assert.is(refusal.code, 'unsigned');
});

Publish('add writes release.yaml with the image id from the archive, its sha256 and size, every file sha256, and the agent reads it', async (ctx) => {
  const dir = await newChannel(ctx);
  const build = await buildDir(ctx);
  const r = await duckCli(dir, ['release', 'add', 'hello', '2.0.0', '--from', build.dir, '--notes', 'Second major: new page.']);
  assert.is(r.code, 0, r.stderr);
  const releaseDir = join(dir, 'releases', 'hello', '2.0.0');
  const archive = await readFile(join(releaseDir, 'images', 'hello.tar'));
  const text = await readFile(join(releaseDir, 'release.yaml'), 'utf8');
  assert.ok(text.startsWith('# yaml-language-server: $schema=https://duck.dev/schemas/release.schema.json\n'), text);
  const release = parseYaml('release', text, 'release.yaml');
  assert.equal(release.images, [{ ref: 'duck-example/hello:2.0.0', id: build.id, archive: { url: 'images/hello.tar', sha256: sha256(archive), size: archive.length } }]);
  assert.equal(release.files, {
    'compose.yaml': sha256(await readFile(join(build.dir, 'compose.yaml'))),
    'config/httpd.conf': sha256('H:/www\n'),
    'images/hello.tar': sha256(archive),
  });
  assert.is(release.notes, 'Second major: new page.');
  assert.equal(release.health, { timeout: '45s' }, 'the build directory release.yaml is the base');
  assert.is(release.migrations, 'irreversible');

  const commit = await duckCli(dir, ['release', 'commit', '-m', 'hello 2.0.0', '--key', ctx.keyFile]);
  assert.is(commit.code, 0, commit.stderr);
  const repo = await openLocalRepo(dir);
  const tree = await repo.treeAt((await repo.head())!);
  const content = await readRelease(tree, 'hello', '2.0.0', { file: 'groups/test.yaml', field: '/apps/hello' });
  assert.equal(content.files.map((f) => f.path), ['compose.yaml', 'config/httpd.conf', 'images/hello.tar']);
});

Publish('add --archive-base-url names the archive under that URL and leaves it out of the release directory', async (ctx) => {
  const dir = await newChannel(ctx);
  const build = await buildDir(ctx);
  const r = await duckCli(dir, ['release', 'add', 'hello', '2.0.0', '--from', build.dir, '--archive-base-url', 'https://downloads.example.com/hello/2.0.0/', '--json']);
  assert.is(r.code, 0, r.stderr);
  const release = parseYaml('release', await readFile(join(dir, 'releases/hello/2.0.0/release.yaml'), 'utf8'), 'release.yaml');
  assert.is(release.images?.[0]?.archive?.url, 'https://downloads.example.com/hello/2.0.0/hello.tar');
  assert.is(release.files['images/hello.tar'], undefined);
  assert.equal(r.json?.uploads, [join(build.dir, 'images', 'hello.tar')]);
  const lint = await duckCli(dir, ['release', 'lint']);
  assert.is(lint.code, 0, lint.stdout);
});

Publish('add refuses to overwrite a version that exists on disk, or in the last commit when deleted from disk', async (ctx) => {
  const dir = await newChannel(ctx);
  const build = await buildDir(ctx, 'duck-example/hello:1.0.0');
  const before = await readFile(join(dir, 'releases/hello/1.0.0/release.yaml'), 'utf8');
  const onDisk = await duckCli(dir, ['release', 'add', 'hello', '1.0.0', '--from', build.dir]);
  assert.is(onDisk.code, 2);
  assert.match(onDisk.stderr, /releases\/hello\/1\.0\.0 exists already: a published release never changes/);
  assert.is(await readFile(join(dir, 'releases/hello/1.0.0/release.yaml'), 'utf8'), before);
  await rm(join(dir, 'releases/hello/1.0.0'), { recursive: true });
  const inHead = await duckCli(dir, ['release', 'add', 'hello', '1.0.0', '--from', build.dir]);
  assert.is(inHead.code, 2);
  assert.match(inHead.stderr, /is in the last commit/);
});

Publish('add refuses a compose image that no archive or base image pins, naming compose file and line', async (ctx) => {
  const dir = await newChannel(ctx);
  const build = await buildDir(ctx);
  await writeFile(join(build.dir, 'compose.yaml'), `${COMPOSE}  worker:\n    image: busybox:latest\n`);
  const r = await duckCli(dir, ['release', 'add', 'hello', '2.0.0', '--from', build.dir]);
  assert.is(r.code, 1);
  assert.match(r.stderr, new RegExp(`${build.dir}/compose.yaml:7:12: /services/worker/image: image busybox:latest is not among the release's images`));
});

Publish('promote changes the one version line and keeps every comment and the key order', async (ctx) => {
  const dir = await newChannel(ctx);
  const file = join(dir, 'groups/production.yaml');
  const before = await readFile(file, 'utf8');
  const r = await duckCli(dir, ['release', 'promote', 'production', 'hello@1.1.0', '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json?.previous, '1.0.0');
  const after = await readFile(file, 'utf8');
  const changed = after.split('\n').filter((line, i) => line !== before.split('\n')[i]);
  assert.equal(changed, ['  hello: 1.1.0']);
  assert.is(after.split('\n').length, before.split('\n').length);
});

Publish('promote refuses a version that does not exist and leaves the group file as it was', async (ctx) => {
  const dir = await newChannel(ctx);
  const file = join(dir, 'groups/production.yaml');
  const before = await readFile(file, 'utf8');
  const r = await duckCli(dir, ['release', 'promote', 'production', 'hello@9.9.9']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /hello 9\.9\.9 does not exist/);
  assert.is(await readFile(file, 'utf8'), before);
});

Publish('promote --rollout writes relative step times as absolute RFC 3339 times from now, and --urgent', async (ctx) => {
  const dir = await newChannel(ctx);
  const start = Date.now();
  const r = await duckCli(dir, ['release', 'promote', 'canary', 'hello@1.0.0', '--rollout', '10%@now,50%@+24h,100%@+72h', '--urgent']);
  assert.is(r.code, 0, r.stderr);
  const group = parseYaml('group', await readFile(join(dir, 'groups/canary.yaml'), 'utf8'), 'canary.yaml');
  assert.is(group.apps.hello, '1.0.0');
  assert.is(group.urgent, true);
  const steps = group.rollout ?? [];
  assert.equal(steps.map((s) => s.percent), [10, 50, 100]);
  const hours = steps.map((s) => (Date.parse(s.at) - Math.floor(start / 1000) * 1000) / 3_600_000);
  for (const [i, expected] of [0, 24, 72].entries()) assert.ok(Math.abs(hours[i]! - expected) < 0.02, `step ${i}: ${steps[i]!.at}`);
  for (const s of steps) assert.match(s.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const lint = await duckCli(dir, ['release', 'lint']);
  assert.is(lint.code, 0, lint.stdout);
});

Publish.run();
