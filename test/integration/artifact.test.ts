// The self-contained build (issue 15, point 1): `npm run build:artifact`'s tarballs unpacked into a
// directory with no node_modules above it and run with a PATH that has no node: the agent prints its
// version and the commit it was built from, and checks a real signed channel on the loopback git
// server; the controller serves its API and dashboard from the files it carries.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';
import { buildArtifacts, type Artifact } from '../../packaging/build-artifacts.js';
import { startChannelHost, type ChannelHost } from '../helpers/channel-builder.js';
import { publishBasicChannel } from '../helpers/channel-fixtures.js';
import { startControllerProcess } from '../helpers/controller-process.js';
import { envWithoutNode } from '../helpers/installed-node.js';

const Artifacts = suite<{ dir: string; artifacts: Artifact[]; env: NodeJS.ProcessEnv; host: ChannelHost }>('self-contained artifacts', {
  dir: '',
  artifacts: [],
  env: {},
  host: null as unknown as ChannelHost,
});

Artifacts.before(async (ctx) => {
  ctx.dir = await makeTempDir('duck-artifact-');
  ctx.artifacts = buildArtifacts({ arch: process.arch, node: process.execPath, outDir: join(ctx.dir, 'out') });
  // Unpacked apart from the build, as a node receives it: nothing but the tarball's own files.
  await mkdir(join(ctx.dir, 'opt'));
  for (const a of ctx.artifacts) await run('tar', ['-xzf', a.tarball, '-C', join(ctx.dir, 'opt')]);
  // The launcher needs sh, readlink and dirname; PATH holds those alone, so no system node is found.
  ctx.env = await envWithoutNode(ctx.dir);
  ctx.host = await startChannelHost('duck-artifact-channel-');
});

Artifacts.after(async (ctx) => {
  await ctx.host?.close();
  await removeTempDir(ctx.dir);
});

function launcher(ctx: { dir: string; artifacts: Artifact[] }, name: string): string {
  const a = ctx.artifacts.find((x) => x.name === name)!;
  return join(ctx.dir, 'opt', `${name}-${a.version}-linux-${process.arch}`, name);
}

Artifacts('the tarballs are named <name>-<version>-linux-<arch> and hold the launcher, node, the bundle and package.json', async (ctx) => {
  const head = (await run('git', ['rev-parse', 'HEAD'])).stdout.toString('utf8').trim();
  for (const a of ctx.artifacts) {
    assert.ok(a.tarball.endsWith(`${a.name}-${a.version}-linux-${process.arch}.tar.gz`), a.tarball);
    assert.is(a.commit, head);
    const files = await readdir(join(ctx.dir, 'opt', `${a.name}-${a.version}-linux-${process.arch}`));
    for (const f of [a.name, 'node', 'lib', 'package.json']) assert.ok(files.includes(f), `${a.name}: ${files.join(' ')}`);
  }
});

Artifacts('a node binary of another architecture is refused before anything is built (an arm64 build needs an arm64 node)', (ctx) => {
  const other = process.arch === 'arm64' ? 'x64' : 'arm64';
  assert.throws(() => buildArtifacts({ arch: other, node: process.execPath, outDir: join(ctx.dir, 'other') }), new RegExp(`not ${other}`));
  assert.throws(() => buildArtifacts({ arch: 'mips', node: process.execPath, outDir: join(ctx.dir, 'other') }), /--arch mips/);
});

Artifacts('duck --version prints the version and the commit it was built from, with no node on PATH', async (ctx) => {
  const which = await run('/bin/sh', ['-c', 'command -v node'], { env: ctx.env, allowFailure: true });
  assert.is.not(which.code, 0, 'node is not on the test PATH');
  const a = ctx.artifacts.find((x) => x.name === 'duck')!;
  const r = await run(launcher(ctx, 'duck'), ['--version'], { env: ctx.env, cwd: ctx.dir });
  assert.is(r.stdout.toString('utf8').trim(), `duck ${a.version} (commit ${a.commit})`);
  const ctl = await run(launcher(ctx, 'duck-controller'), ['--version'], { env: ctx.env, cwd: ctx.dir });
  assert.is(ctl.stdout.toString('utf8').trim(), `duck-controller ${a.version} (commit ${a.commit})`);
});

Artifacts('the artifact runs duck check against a signed channel (fetch, verify with openpgp.js) and duck status', async (ctx) => {
  const { ch, url } = await ctx.host.channel('artifact');
  const tip = await publishBasicChannel(ch, ctx.host.rootKey);
  const node = await ctx.host.node(url);
  const check = await run(launcher(ctx, 'duck'), ['check', '--config', node.configFile], { env: ctx.env, cwd: node.dir, allowFailure: true });
  assert.is(check.code, 0, check.stderr);
  assert.ok(check.stdout.toString('utf8').includes(tip.slice(0, 12)), check.stdout.toString('utf8'));
  const status = await run(launcher(ctx, 'duck'), ['status', '--config', node.configFile], { env: ctx.env, cwd: node.dir, allowFailure: true });
  assert.is(status.code, 0, status.stderr);
  assert.ok(status.stdout.toString('utf8').includes('shop'), status.stdout.toString('utf8'));
});

Artifacts('the controller artifact serves its API and the dashboard from the files it carries', async (ctx) => {
  const data = join(ctx.dir, 'controller-data');
  const ctl = await startControllerProcess(['--data', data], { ...ctx.env, DUCK_ADMIN_TOKEN: 'a-token', DUCK_ENROLL_TOKEN: 'e-token' }, 120_000, [launcher(ctx, 'duck-controller')]);
  try {
    const page = await fetch(new URL('/', ctl.url));
    assert.is(page.status, 200);
    const fleet = await fetch(new URL('/api/v1/fleet', ctl.url), { headers: { authorization: 'Bearer a-token' } });
    assert.is(fleet.status, 200, await fleet.clone().text());
  } finally {
    await ctl.kill('SIGTERM');
  }
});

Artifacts.run();
