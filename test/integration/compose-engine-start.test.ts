// Issue 13: the upgrade's start through the Docker Engine API on a unix socket — no docker CLI
// process in the stopped window. The real adapter and the real docker-compose library run against
// a stand-in engine (node:http on a unix socket, answering as dockerd does) and a stand-in `docker`
// that records any argv; test/e2e/compose-runtime.test.ts drives the same path on the real engine.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import { createServer as createSocketServer } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createComposeCli } from '../../agent/src/adapters/compose-cli.js';
import { isEngineUnreachable } from '../../agent/src/core/engine-fault.js';
import type { ComposeInfo, ComposeTarget } from '../../agent/src/ports.js';
import { DuckError } from '../../schemas/errors.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';

interface Ctx {
  dir: string;
  bin: string;
  log: string;
  socket: string;
  engine: Server;
  /** Each request the stand-in engine got, as `METHOD url`. */
  requests: string[];
  /** Container ids whose start the engine refuses (404 No such container). */
  missing: Set<string>;
  target: ComposeTarget;
}

const Engine = suite<Ctx>('the upgrade\'s start through the Engine API socket', {} as Ctx);

Engine.before(async (ctx) => {
  ctx.dir = await makeTempDir('duck-engine-start-');
  ctx.log = join(ctx.dir, 'argv.log');
  const release = join(ctx.dir, 'releases', '1.1.0');
  await mkdir(release, { recursive: true });
  await writeFile(join(release, 'compose.yaml'), 'services:\n  web:\n    image: shop/web:1.1.0\n    depends_on: [db]\n  db:\n    image: shop/db:1.1.0\n');
  ctx.target = { cwd: release, files: ['compose.yaml'], env: { DUCK_VERSION: '1.1.0' } };
  // The two containers `up --no-start` made in that directory, as `GET /containers/json` lists them.
  const listed = ['web', 'db'].map((service) => ({
    Id: `id-${service}`,
    Names: [`/duck-shop_${service}_1`],
    Image: `shop/${service}:1.1.0`,
    ImageID: 'sha256:0',
    State: 'created',
    Status: 'Created',
    Labels: { 'com.docker.compose.project': 'duck-shop', 'com.docker.compose.service': service, 'com.docker.compose.project.working_dir': release },
  }));
  ctx.requests = [];
  ctx.missing = new Set();
  ctx.engine = createServer((req, res) => {
    ctx.requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://docker');
    const start = /^\/containers\/([^/]+)\/start$/.exec(url.pathname);
    if (req.method === 'GET' && url.pathname === '/containers/json') {
      const filters = JSON.parse(url.searchParams.get('filters') ?? '{}') as { label?: string[] };
      const project = filters.label?.[0]?.split('=')[1];
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(listed.filter((c) => c.Labels['com.docker.compose.project'] === project)));
    } else if (req.method === 'POST' && start && ctx.missing.has(start[1]!)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `No such container: ${start[1]}` }));
    } else if (req.method === 'POST' && start) {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404);
      res.end('page not found');
    }
  });
  ctx.socket = join(ctx.dir, 'engine.sock');
  await new Promise<void>((resolve) => ctx.engine.listen(ctx.socket, resolve));
  ctx.bin = join(ctx.dir, 'docker');
  await writeFile(ctx.bin, ['#!/bin/sh', `printf '%s\\n' "$*" >> '${ctx.log}'`, ''].join('\n'));
  await chmod(ctx.bin, 0o755);
});
Engine.after(async (ctx) => {
  await new Promise((resolve) => ctx.engine?.close(resolve));
  await removeTempDir(ctx.dir);
});
Engine.before.each(async (ctx) => {
  ctx.requests.length = 0;
  ctx.missing.clear();
  await writeFile(ctx.log, '');
});

const flavours = (bin: string): Array<[string, ComposeInfo]> => [
  ['v2', { flavor: 'v2', version: '2.29.1', command: [bin, 'compose'] }],
  ['v1', { flavor: 'v1', version: '1.29.2', command: [bin] }],
];

const envFor = (socket: string): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONTEXT: '' });

Engine('start lists the project and starts its created containers on the socket, dependencies first: no docker or compose process', async (ctx) => {
  for (const [name, info] of flavours(ctx.bin)) {
    ctx.requests.length = 0;
    const started = await createComposeCli(info, { docker: ctx.bin, env: envFor(ctx.socket) }).start('duck-shop', ctx.target);
    assert.equal({ ...started, startMs: 0 }, { by: 'engine', containers: 2, startMs: 0 }, name);
    assert.equal(ctx.requests, [
      'GET /containers/json?all=1&filters=%7B%22label%22%3A%5B%22com.docker.compose.project%3Dduck-shop%22%5D%7D',
      'POST /containers/id-db/start',
      'POST /containers/id-web/start',
    ], name);
    assert.is(await readFile(ctx.log, 'utf8'), '', `${name}: no process ran`);
  }
});

Engine('a start the engine refuses is an io error naming the call and the engine\'s message; later containers are not started', async (ctx) => {
  ctx.missing.add('id-db');
  const [, info] = flavours(ctx.bin)[1]!;
  try {
    await createComposeCli(info, { docker: ctx.bin, env: envFor(ctx.socket) }).start('duck-shop', ctx.target);
    assert.unreachable('a refused start must fail the start');
  } catch (err) {
    assert.instance(err, DuckError);
    assert.is((err as DuckError).code, 'io');
    assert.not.ok(isEngineUnreachable(err));
    assert.match((err as DuckError).message, 'Docker Engine API `POST /containers/id-db/start` failed: HTTP 404: No such container: id-db');
  }
  assert.equal(ctx.requests.slice(1), ['POST /containers/id-db/start']);
});

Engine('a socket path with no engine behind it is the classified engine-unreachable error naming the call', async (ctx) => {
  const [, info] = flavours(ctx.bin)[1]!;
  const missing = join(ctx.dir, 'no-engine.sock');
  try {
    await createComposeCli(info, { docker: ctx.bin, env: envFor(missing) }).start('duck-shop', ctx.target);
    assert.unreachable('a start with no engine must fail');
  } catch (err) {
    assert.ok(isEngineUnreachable(err), String(err));
    const message = (err as DuckError).message;
    assert.match(message, 'the Docker engine did not answer `GET /containers/json?all=1&filters=');
    assert.match(message, `(Docker Engine API at ${missing})`);
    assert.match(message, 'ENOENT');
  }
  assert.is(await readFile(ctx.log, 'utf8'), '', 'no CLI fallback after an engine that did not answer');
});

Engine('an answer cut mid-way (the engine gone during the call) is engine-unreachable as well', async (ctx) => {
  const [, info] = flavours(ctx.bin)[1]!;
  const cutting = join(ctx.dir, 'cut.sock');
  const server = createSocketServer((client) => {
    client.once('data', () => client.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[{"Id"', () => client.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(cutting, resolve));
  try {
    await createComposeCli(info, { docker: ctx.bin, env: envFor(cutting) }).start('duck-shop', ctx.target);
    assert.unreachable('a cut answer must fail the start');
  } catch (err) {
    assert.ok(isEngineUnreachable(err), String(err));
    assert.match((err as DuckError).message, 'GET /containers/json');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

Engine.run();
