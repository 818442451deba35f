import { readFile } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { DuckError, toDuckError } from '../../../schemas/errors.js';
import { allowedHosts, checkRequest, cookieValue, SESSION_COOKIE, sessionCookie } from './guard.js';
import type { ListenPlan } from './listen.js';
import { hostHeader } from './listen.js';
import { redeemLoginToken } from './login-token.js';
import type { Asset } from './assets.js';
import { loadAssets } from './assets.js';
import type { ConsoleRoute, RouteCall } from './routes.js';
import { matchRoute } from './routes.js';
import { ConsoleSessions, SESSION_TTL_MS } from './sessions.js';

/** What the console reads and does on the node, handed in by its wiring (cli/): it imports no node code. */
export interface ConsoleDeps {
  readonly stateDir: string;
  /** The API behind the session (`/api/...`), each route module wired to the node by cli/console-wiring. */
  readonly routes: readonly ConsoleRoute[];
  readonly clock?: () => Date;
  /** The page's files by URL path (default: `agent/src/console/public/`, read once at start). */
  readonly assets?: ReadonlyMap<string, Asset>;
}

export interface ConsoleServer {
  /** The `http(s)://host:port` the console answers at (the port chosen when 0 was asked). */
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * Nothing inline may run: app names, reasons and log lines shown by the pages come from the
 * channel and the containers, so a markup slip must not become script.
 */
export const CONSOLE_CSP = ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"].join('; ');

/** A login token, an act's arguments or an overlay edit: nothing the console takes is larger. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * The node's console (DESIGN §4.9) on node:http: the agent CLI is one bundle, and Koa with its
 * router would weigh on it for a handful of routes. The module is imported only by `duck console`
 * and by `duck run` when agent.yaml asks for a console, never by a reading command.
 */
export async function startConsole(plan: ListenPlan, deps: ConsoleDeps): Promise<ConsoleServer> {
  const clock = deps.clock ?? (() => new Date());
  const assets = deps.assets ?? loadAssets();
  const sessions = new ConsoleSessions();
  const scheme = plan.tls ? 'https' : 'http';
  let hosts: ReadonlySet<string> = new Set();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    serve(req, res).catch((err: unknown) => {
      const e = toDuckError(err);
      send(res, STATUS_OF_ERROR[e.code] ?? 500, { ok: false, code: e.code, message: e.message });
    });
  };
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    const method = req.method ?? 'GET';
    const refusal = checkRequest({ method, host: req.headers.host, origin: req.headers.origin }, hosts, scheme);
    if (refusal) return send(res, refusal.status, { ok: false, message: refusal.message });
    const path = new URL(req.url ?? '/', 'http://console').pathname;
    const asset = method === 'GET' ? assets.get(path) : undefined;
    if (asset) {
      res.writeHead(200, { 'Content-Type': asset.type });
      res.end(asset.body);
      return;
    }
    if (path === '/api/login' && method === 'POST') return login(req, res);
    if (!path.startsWith('/api/')) return send(res, 404, { ok: false, message: 'not found' });
    if (!sessions.valid(cookieValue(req.headers.cookie, SESSION_COOKIE), clock())) return send(res, 401, { ok: false, message: 'log in first: duck console --open prints a link' });
    const found = matchRoute(deps.routes, method, path);
    if (!found) return send(res, 404, { ok: false, message: 'not found' });
    const call: RouteCall = {
      req,
      res,
      params: found.params,
      query: new URL(req.url ?? '/', 'http://console').searchParams,
      json: async () => {
        const text = await readBody(req);
        try {
          return text === '' ? {} : (JSON.parse(text) as unknown);
        } catch {
          throw new DuckError('usage', 'the request body is not JSON');
        }
      },
      send: (status, body) => send(res, status, body),
    };
    return found.route.handle(call);
  };
  const login = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const token = tokenOf(await readBody(req));
    const verdict = token === null ? 'wrong' : await redeemLoginToken(deps.stateDir, token, clock());
    if (verdict !== 'ok') return send(res, 401, { ok: false, reason: verdict, message: LOGIN_REFUSALS[verdict] });
    res.setHeader('Set-Cookie', sessionCookie(sessions.open(clock()), plan.tls !== null, SESSION_TTL_MS / 1000));
    return send(res, 200, { ok: true });
  };

  const server: Server = plan.tls ? createHttpsServer({ cert: await readFile(plan.tls.certFile), key: await readFile(plan.tls.keyFile) }, handler) : createHttpServer(handler);
  await new Promise<void>((ready, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'the port is in use (another duck console, or duck run with agent.yaml console.port?)' : err.message;
      fail(new DuckError('io', `the console cannot listen on ${hostHeader(plan.host, plan.port)}: ${why}`, { field: 'console.port' }));
    });
    server.listen(plan.port, plan.host, () => {
      server.removeAllListeners('error');
      ready();
    });
  });
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(plan.host, port);
  return {
    origin: `${scheme}://${hostHeader(plan.host, port)}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** An operator's mistake is the page's to show, not a server fault. */
const STATUS_OF_ERROR: Readonly<Partial<Record<string, number>>> = { usage: 400, config: 400, 'not-found': 404, locked: 409, fetch: 502, docker: 502 };

const LOGIN_REFUSALS: Readonly<Record<'wrong' | 'expired' | 'none', string>> = {
  wrong: 'this login link is not the current one: run duck console --open for a new one',
  expired: 'this login link has expired: run duck console --open for a new one',
  none: 'this login link was used already or never issued: run duck console --open for a new one',
};

function tokenOf(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { token?: unknown };
    return typeof parsed.token === 'string' && parsed.token !== '' ? parsed.token : null;
  } catch {
    return null;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new DuckError('usage', `the request body is over ${MAX_BODY_BYTES / 1024} KiB`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
