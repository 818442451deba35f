// Issue 13: the compose adapter's create and start, for both flavours, by the argv they run. Only
// compose v1 is installed on the test machines (test/e2e/compose-runtime.test.ts drives it for
// real), so the v2 path is checked here: the real adapter and the real docker-compose library
// spawn a stand-in `docker` that records each argv and answers `ps`/`inspect` as Docker would. The
// start goes through the docker CLI here because DOCKER_HOST names a TCP engine, whose socket the
// agent does not call itself (the Engine API path: compose-engine-start.test.ts).
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createComposeCli } from '../../agent/src/adapters/compose-cli.js';
import type { ComposeInfo, ComposeTarget } from '../../agent/src/ports.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';

interface Ctx {
  dir: string;
  bin: string;
  log: string;
  target: ComposeTarget;
}

const Argv = suite<Ctx>('the compose adapter\'s create and start, by argv', {} as Ctx);

Argv.before(async (ctx) => {
  ctx.dir = await makeTempDir('duck-compose-argv-');
  ctx.log = join(ctx.dir, 'argv.log');
  const release = join(ctx.dir, 'releases', '1.1.0');
  await mkdir(release, { recursive: true });
  await writeFile(join(release, 'compose.yaml'), 'services:\n  web:\n    image: shop/web:1.1.0\n    depends_on: [db]\n  db:\n    image: shop/db:1.1.0\n');
  ctx.target = { cwd: release, files: ['compose.yaml'], env: { DUCK_VERSION: '1.1.0' } };
  // Two containers `up --no-start` made in that directory, as `docker inspect` prints them.
  const inspect = ['web', 'db'].map((service) => ({
    Id: `id-${service}`,
    Name: `/duck-shop_${service}_1`,
    Image: 'sha256:0',
    Config: { Image: `shop/${service}:1.1.0`, Labels: { 'com.docker.compose.project': 'duck-shop', 'com.docker.compose.service': service, 'com.docker.compose.project.working_dir': release } },
    State: { Status: 'created', ExitCode: 0 },
  }));
  await writeFile(join(ctx.dir, 'inspect.json'), JSON.stringify(inspect));
  ctx.bin = join(ctx.dir, 'docker');
  await writeFile(
    ctx.bin,
    [
      '#!/bin/sh',
      `printf '%s\\n' "$*" >> '${ctx.log}'`,
      'case "$1" in',
      '  ps) printf "id-web\\nid-db\\n" ;;',
      `  inspect) cat '${join(ctx.dir, 'inspect.json')}' ;;`,
      'esac',
      '',
    ].join('\n'),
  );
  await chmod(ctx.bin, 0o755);
});
Argv.after(async (ctx) => removeTempDir(ctx.dir));

/** An engine only the CLI reaches: the start lists and starts through the stand-in `docker`. */
const CLI_ENV = { ...process.env, DOCKER_HOST: 'tcp://127.0.0.1:2375' };

const flavours = (bin: string): Array<[string, ComposeInfo, string]> => [
  ['v2', { flavor: 'v2', version: '2.29.1', command: [bin, 'compose'] }, 'compose '],
  ['v1', { flavor: 'v1', version: '1.29.2', command: [bin] }, ''],
];

Argv('create is one compose up --no-start --force-recreate --remove-orphans of the target', async (ctx) => {
  for (const [name, info, prefix] of flavours(ctx.bin)) {
    await writeFile(ctx.log, '');
    await createComposeCli(info, { docker: ctx.bin }).create('duck-shop', ctx.target);
    const lines = (await readFile(ctx.log, 'utf8')).trim().split('\n');
    assert.equal(lines, [`${prefix}--project-name duck-shop --project-directory ${ctx.target.cwd} -f compose.yaml up --no-start --force-recreate --remove-orphans`], name);
  }
});

Argv('start where DOCKER_HOST is not a unix socket lists the project, then one docker start of the created containers, dependencies first: no compose process', async (ctx) => {
  for (const [name, info] of flavours(ctx.bin)) {
    await writeFile(ctx.log, '');
    const started = await createComposeCli(info, { docker: ctx.bin, env: CLI_ENV }).start('duck-shop', ctx.target);
    assert.equal({ ...started, startMs: 0 }, { by: 'engine', containers: 2, startMs: 0 }, name);
    const lines = (await readFile(ctx.log, 'utf8')).trim().split('\n');
    assert.equal(lines, ['ps -a -q --no-trunc --filter label=com.docker.compose.project=duck-shop', 'inspect id-web id-db', 'start id-db id-web'], name);
  }
});

Argv('start of a project only compose starts as compose would runs compose up -d --remove-orphans', async (ctx) => {
  const linked = { ...ctx.target, files: ['compose.yaml', join(ctx.dir, 'links.yaml')] };
  await writeFile(join(ctx.dir, 'links.yaml'), 'services:\n  web:\n    links: [db]\n');
  for (const [name, info, prefix] of flavours(ctx.bin)) {
    await writeFile(ctx.log, '');
    const started = await createComposeCli(info, { docker: ctx.bin, env: CLI_ENV }).start('duck-shop', linked);
    assert.equal(started, { by: 'compose', reason: 'web has links' }, name);
    const lines = (await readFile(ctx.log, 'utf8')).trim().split('\n');
    assert.is(lines.at(-1), `${prefix}--project-name duck-shop --project-directory ${ctx.target.cwd} -f compose.yaml -f ${join(ctx.dir, 'links.yaml')} up --remove-orphans -d`, name);
  }
});

Argv.run();
