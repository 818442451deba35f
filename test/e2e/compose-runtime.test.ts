// e2e lane: own compose project
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createComposeCli, detectCompose } from '../../agent/src/adapters/compose-cli.js';
import { DuckError } from '../../schemas/errors.js';
import type { ComposeRuntime, ComposeTarget, ServiceStatus } from '../../agent/src/ports.js';
import { freeHostPort, projectContainers, removeProject } from '../../examples/harness/compose-project.js';
import { describeProject, dockerEvents, mutations, requireDocker, saveProjectArtifacts, uniqueProjectName } from '../helpers/docker.js';
import { buildHelloImage, HELLO_COMPOSE_FILE, helloComposeEnv, helloImageTag, HELLO_SERVICE } from '../helpers/images.js';

await requireDocker();

interface Context {
  runtime: ComposeRuntime;
  project: string;
  dir: string;
  port: number;
  target: ComposeTarget;
}

const it = suite<Context>('ComposeRuntime over the compose CLI (real Docker)', {} as Context);

it.before(async (ctx) => {
  try {
    await buildHelloImage('1.0.0');
    await buildHelloImage('1.1.0');
    ctx.runtime = createComposeCli(await detectCompose());
    ctx.project = uniqueProjectName('duck-e2e-runtime');
    ctx.dir = await mkdtemp(join(tmpdir(), 'duck-e2e-runtime-'));
    await copyFile(HELLO_COMPOSE_FILE, join(ctx.dir, 'compose.yaml'));
    // The next version's release directory, as the agent lays one out beside the running one.
    await mkdir(join(ctx.dir, 'next'));
    await copyFile(HELLO_COMPOSE_FILE, join(ctx.dir, 'next', 'compose.yaml'));
    ctx.port = await freeHostPort();
    ctx.target = {
      cwd: ctx.dir,
      files: ['compose.yaml'],
      env: { ...helloComposeEnv('1.0.0'), HELLO_PORT: String(ctx.port), DUCK_DATA_DIR: join(ctx.dir, 'data'), DUCK_LOCK_DIR: join(ctx.dir, 'lock') },
    };
  } catch (err) {
    // uvu swallows an error thrown by a before hook (its tests just count as not passed): say it.
    console.error('compose-runtime setup failed:', err);
    throw err;
  }
});

it.after(async (ctx) => {
  try {
    if (ctx.project !== undefined) {
      await ctx.runtime?.down(ctx.project, ctx.target).catch(() => undefined);
      await removeProject(ctx.project);
    }
  } finally {
    if (ctx.dir !== undefined) await rm(ctx.dir, { recursive: true, force: true });
  }
});

it('detectCompose names the compose that answers, its flavour following its major version', async (ctx) => {
  const info = await ctx.runtime.version();
  assert.match(info.version, /^\d+\.\d+/);
  assert.is(info.flavor, Number.parseInt(info.version, 10) >= 2 ? 'v2' : 'v1');
  assert.ok(info.command.length === 1 || info.command.at(-1) === 'compose', info.command.join(' '));
});

it('up starts the example stack and ps reports its service running', async (ctx) => {
  await ctx.runtime.up(ctx.project, ctx.target);
  const services = await ctx.runtime.ps(ctx.project);
  assert.equal(services.map((s) => s.service), [HELLO_SERVICE]);
  const [web] = services as [ServiceStatus];
  assert.equal(web.state, 'running');
  assert.equal(web.image, helloImageTag('1.0.0'));
  assert.match(web.imageId, /^sha256:[0-9a-f]{64}$/);
  assert.equal(web.labels['com.docker.compose.project'], ctx.project);
  assert.ok(['starting', 'healthy'].includes(web.health), `health is ${web.health}`);
});

it('ps reports the compose healthcheck passing within 30 s', async (ctx) => {
  const web = await waitForHealth(ctx, 'healthy', 30_000);
  assert.equal(web.state, 'running');
});

it('up again with nothing changed makes no Docker mutation', async (ctx) => {
  const since = new Date();
  await ctx.runtime.up(ctx.project, ctx.target);
  const changed = mutations(await dockerEvents({ project: ctx.project, since }));
  assert.equal(changed.map((e) => `${e.type} ${e.action} ${e.name}`), []);
});

it('the service answers over HTTP on the port published to 127.0.0.1', async (ctx) => {
  const response = await fetch(`http://127.0.0.1:${ctx.port}/`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(response.status, 200);
  assert.match(await response.text(), 'Hello from Duck, version 1.0.0.');
});

it('the container writes to the bind-mounted data directory', async (ctx) => {
  const log = await readFile(join(ctx.dir, 'data', 'web', 'starts.log'), 'utf8');
  assert.match(log, / 1\.0\.0\n$/);
});

it('stop keeps the container, stopped', async (ctx) => {
  await ctx.runtime.stop(ctx.project, ctx.target);
  const services = await ctx.runtime.ps(ctx.project);
  assert.equal(services.map((s) => [s.service, s.state]), [[HELLO_SERVICE, 'exited']]);
});

it('down removes containers and network but keeps the data', async (ctx) => {
  await ctx.runtime.up(ctx.project, ctx.target);
  await ctx.runtime.down(ctx.project, ctx.target);
  assert.equal(await ctx.runtime.ps(ctx.project), []);
  assert.equal(await projectContainers(ctx.project), []);
  const log = await readFile(join(ctx.dir, 'data', 'web', 'starts.log'), 'utf8');
  assert.is(log.trim().split('\n').length, 2, 'one line per start, both kept');
});

// Issue 13: an upgrade makes the new containers while the old version serves, then starts them through the engine.
it('create replaces the running containers by the new version\'s, created and not started', async (ctx) => {
  await ctx.runtime.up(ctx.project, ctx.target);
  await ctx.runtime.create(ctx.project, newTarget(ctx));
  const services = await ctx.runtime.ps(ctx.project);
  assert.equal(services.map((s) => [s.service, s.state, s.image]), [[HELLO_SERVICE, 'created', helloImageTag('1.1.0')]]);
});

it('start starts what create made through the engine, and the new version answers', async (ctx) => {
  const started = await ctx.runtime.start(ctx.project, newTarget(ctx));
  assert.equal({ ...started, startMs: 0 }, { by: 'engine', containers: 1, startMs: 0 });
  assert.equal((await ctx.runtime.ps(ctx.project)).map((s) => s.state), ['running']);
  await waitForHealth(ctx, 'healthy', 30_000);
  const response = await fetch(`http://127.0.0.1:${ctx.port}/version.txt`, { signal: AbortSignal.timeout(5_000) });
  assert.is((await response.text()).trim(), '1.1.0');
});

it('start where the containers are not the created set (another version\'s) runs compose up, which converges them', async (ctx) => {
  const started = await ctx.runtime.start(ctx.project, ctx.target);
  assert.is(started.by, 'compose');
  const services = await ctx.runtime.ps(ctx.project);
  assert.equal(services.map((s) => [s.state, s.image]), [['running', helloImageTag('1.0.0')]]);
});

it('start through the engine\'s socket runs no docker process and starts dependencies first', async (ctx) => {
  // Another version whose web depends on a second service: create as an upgrade does, then start with
  // a docker executable that does not exist, so any CLI call would fail the start.
  await writeFile(join(ctx.dir, 'next', 'order.yaml'), 'services:\n  web:\n    depends_on: [side]\n  side:\n    image: ${HELLO_REPOSITORY}:${HELLO_VERSION}\n    command: ["/bin/busybox", "sleep", "600"]\n');
  const ordered = { ...newTarget(ctx), files: ['compose.yaml', 'order.yaml'] };
  await ctx.runtime.create(ctx.project, ordered);
  assert.equal((await ctx.runtime.ps(ctx.project)).map((s) => [s.service, s.state]), [['side', 'created'], [HELLO_SERVICE, 'created']]);
  const since = new Date(Date.now() - 1_000);
  const noCli = createComposeCli(await ctx.runtime.version(), { docker: join(ctx.dir, 'no-such-docker') });
  assert.equal({ ...(await noCli.start(ctx.project, ordered)), startMs: 0 }, { by: 'engine', containers: 2, startMs: 0 });
  const starts = (await dockerEvents({ project: ctx.project, since })).filter((e) => e.type === 'container' && e.action === 'start');
  assert.equal(starts.map((e) => e.attributes['com.docker.compose.service']), ['side', HELLO_SERVICE]);
  assert.equal((await ctx.runtime.ps(ctx.project)).map((s) => s.state), ['running', 'running']);
});

it('a compose failure is a DuckError with code io naming the project', async (ctx) => {
  const broken = { ...ctx.target, files: ['missing.yaml'] };
  try {
    await ctx.runtime.up(ctx.project, broken);
    assert.unreachable('up with a missing compose file must fail');
  } catch (err) {
    assert.instance(err, DuckError);
    const duck = err as DuckError;
    assert.is(duck.code, 'io');
    assert.is(duck.data.project, ctx.project);
    assert.match(duck.message, 'missing.yaml');
  }
});

it('an invalid project name is refused before compose runs', async (ctx) => {
  try {
    await ctx.runtime.up('Not A Project', ctx.target);
    assert.unreachable('an upper-case project name must be refused');
  } catch (err) {
    assert.instance(err, DuckError);
    assert.is((err as DuckError).code, 'config');
  }
});

it.run();

function newTarget(ctx: Context): ComposeTarget {
  return { ...ctx.target, cwd: join(ctx.dir, 'next'), env: { ...ctx.target.env, ...helloComposeEnv('1.1.0') } };
}

async function waitForHealth(ctx: Context, want: ServiceStatus['health'], timeoutMs: number): Promise<ServiceStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: ServiceStatus[] = [];
  while (Date.now() < deadline) {
    last = await ctx.runtime.ps(ctx.project);
    const web = last.find((s) => s.service === HELLO_SERVICE);
    if (web?.health === want) return web;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const saved = await saveProjectArtifacts(ctx.project);
  throw new Error(
    `service ${HELLO_SERVICE} not ${want} after ${timeoutMs} ms: ${JSON.stringify(last.map((s) => [s.state, s.health]))}` +
      `\n${await describeProject(ctx.project)}${saved ? `\n(saved to ${saved})` : ''}`,
  );
}
