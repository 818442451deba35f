// Issue 16 point 2, the log stream's lifetime through the real console server over real HTTP (the
// follow itself, compose on a real engine, is test/e2e/console-services.test.ts): lines arrive as
// server-sent events, a client that goes away stops the follow once, an unknown app is a JSON 404
// before any stream, and no more than MAX_LOG_STREAMS follow at once.
import { request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DuckError } from '../../schemas/errors.js';
import { issueLoginToken } from '../../agent/src/console/login-token.js';
import { MAX_LOG_STREAMS, serviceRoutes } from '../../agent/src/console/routes-services.js';
import type { LogFollowDeps } from '../../agent/src/console/routes-services.js';
import type { ConsoleServer } from '../../agent/src/console/server.js';
import { startConsole } from '../../agent/src/console/server.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { call, login, sessionOf } from '../helpers/console.js';

interface Follow {
  app: string;
  tail: number;
  sink: LogFollowDeps;
  stops: number;
}

interface Ctx {
  dir: string;
  server: ConsoleServer;
  cookie: string;
  follows: Follow[];
}

const Route = suite<Ctx>('console: the log stream route over real HTTP', {} as Ctx);

Route.before(async (ctx) => {
  ctx.dir = await makeTempDir('duck-console-logs-');
  ctx.follows = [];
  ctx.server = await startConsole(
    { host: '127.0.0.1', port: 0, tls: null },
    {
      stateDir: ctx.dir,
      routes: serviceRoutes({
        services: async () => [],
        follow: async (app, tail, sink) => {
          if (app !== 'shop') throw new DuckError('not-found', `no app "${app}" runs on this node`);
          const follow: Follow = { app, tail, sink, stops: 0 };
          ctx.follows.push(follow);
          // What compose prints at once: the tail, before the stream's headers are out.
          sink.lines(['web_1  | from the tail']);
          return { stop: () => void follow.stops++ };
        },
      }),
    },
  );
  ctx.cookie = sessionOf(await login(ctx.server.origin, await issueLoginToken(ctx.dir, new Date())));
});

Route.after(async (ctx) => {
  await ctx.server?.close();
  if (ctx.dir) await removeTempDir(ctx.dir);
});

/** Opens the stream; resolves with the response once its headers are in, the body read into `text`. */
function openStream(ctx: Ctx, path: string): Promise<{ res: IncomingMessage; text: () => string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, ctx.server.origin), { headers: { cookie: ctx.cookie } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('error', () => undefined);
      resolve({ res, text: () => text, close: () => req.destroy() });
    });
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    req.end();
  });
}

async function until(holds: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !holds(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(holds(), what);
}

Route('lines arrive as events; the end event closes the stream; a client that leaves stops the follow once', async (ctx) => {
  ctx.follows.length = 0;
  const first = await openStream(ctx, '/api/apps/shop/logs/stream?tail=50');
  assert.is(first.res.statusCode, 200);
  assert.match(String(first.res.headers['content-type']), /^text\/event-stream/);
  assert.ok(first.res.headers['content-security-policy'], 'the console headers too');
  assert.is(ctx.follows[0]!.tail, 50);
  ctx.follows[0]!.sink.lines(['web_1  | live <b>1</b>', 'web_1  | live 2']);
  await until(() => first.text().includes('live 2'), 'the live lines arrive');
  assert.is(first.text(), 'event: lines\ndata: ["web_1  | from the tail"]\n\nevent: lines\ndata: ["web_1  | live <b>1</b>","web_1  | live 2"]\n\n');
  first.close();
  await until(() => ctx.follows[0]!.stops === 1, 'the follow is stopped when the client leaves');

  const second = await openStream(ctx, '/api/apps/shop/logs/stream');
  assert.is(ctx.follows[1]!.tail, 200, 'the default tail');
  const ended = new Promise<void>((done) => second.res.on('end', () => done()));
  ctx.follows[1]!.sink.end('the containers stopped: the log ends here');
  await ended;
  assert.match(second.text(), /event: end\ndata: \{"reason":"the containers stopped: the log ends here"\}\n\n$/);
  await until(() => ctx.follows[1]!.stops === 1, 'stop is called (harmless) once the stream is closed');
  assert.is(ctx.follows[0]!.stops, 1, 'and only once each');
});

Route('an app the node does not run is a JSON 404, a bad tail a 400: no stream, no follow', async (ctx) => {
  ctx.follows.length = 0;
  const missing = await call(ctx.server.origin, '/api/apps/nope/logs/stream', { headers: { cookie: ctx.cookie } });
  assert.is(missing.status, 404);
  assert.is(missing.body?.message, 'no app "nope" runs on this node');
  const bad = await call(ctx.server.origin, '/api/apps/shop/logs/stream?tail=-3', { headers: { cookie: ctx.cookie } });
  assert.is(bad.status, 400);
  assert.match(String(bad.body?.message), /tail must be a whole number/);
  const anonymous = await call(ctx.server.origin, '/api/apps/shop/logs/stream');
  assert.is(anonymous.status, 401, 'the session first');
  assert.is(ctx.follows.length, 0);
});

Route(`at most ${MAX_LOG_STREAMS} streams at once; a closed one makes room`, async (ctx) => {
  ctx.follows.length = 0;
  const streams = [];
  for (let i = 0; i < MAX_LOG_STREAMS; i++) streams.push(await openStream(ctx, '/api/apps/shop/logs/stream'));
  const refused = await call(ctx.server.origin, '/api/apps/shop/logs/stream', { headers: { cookie: ctx.cookie } });
  assert.is(refused.status, 409);
  assert.match(String(refused.body?.message), /log pages are open already/);
  assert.is(ctx.follows.length, MAX_LOG_STREAMS, 'the refused one started no follow');
  streams[0]!.close();
  await until(() => ctx.follows[0]!.stops === 1, 'the first is stopped');
  const again = await openStream(ctx, '/api/apps/shop/logs/stream');
  assert.is(again.res.statusCode, 200);
  for (const s of [...streams.slice(1), again]) s.close();
  await until(() => ctx.follows.every((f) => f.stops === 1), 'every follow stopped');
});

Route.run();
