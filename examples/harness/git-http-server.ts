// A real git smart-HTTP server on loopback: `git http-backend` (CGI) behind node:http. The demo
// serves its release channel with it, and the tests talk through it to the same protocol the agent
// meets in the field — native git and isomorphic-git both — instead of a mock that would agree with
// whatever the client sends.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface GitServerRequest {
  method: string;
  path: string;
  /** When the request arrived (ms since the epoch). */
  at: number;
  query: string;
  /** `git-upload-pack` / `git-receive-pack`, from `?service=` or the POST path; absent for other files. */
  service?: string;
  /** Set when the response head is written; 0 until then. */
  status: number;
  /** Response body bytes sent (headers excluded). */
  bytesOut: number;
  /** Set when `maxBytesPerResponse` cut the response short. */
  truncated?: boolean;
}

export interface GitServer {
  readonly baseUrl: string;
  url(repo: string): string;
  readonly root: string;
  readonly requests: GitServerRequest[];
  resetLog(): void;
  close(): Promise<void>;
}

export interface GitServerOptions {
  /** GIT_PROJECT_ROOT: bare repositories are served from here by relative path. */
  root: string;
  /** When set, every request needs Basic auth with this password (any user) or `Bearer <token>`. */
  token?: string;
  /**
   * When set, a response body longer than this is cut after this many bytes and the connection
   * dropped, the way a flaky proxy or a dying link truncates a pack mid-transfer.
   */
  maxBytesPerResponse?: number;
}

export async function startGitServer(opts: GitServerOptions): Promise<GitServer> {
  const requests: GitServerRequest[] = [];
  const sockets = new Set<Socket>();
  const children = new Set<ChildProcess>();

  const server = createServer((req, res) => {
    const entry = logEntry(req);
    requests.push(entry);
    // Every path below sets entry.status as it writes the head; this catches a client that left.
    res.on('close', () => (entry.status ||= res.statusCode));

    const auth = authenticate(req.headers.authorization, opts.token);
    if (auth === false) {
      entry.status = 401;
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="duck"', 'Content-Type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    serveCgi(req, res, entry, { ...opts, remoteUser: auth, children });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    root: opts.root,
    requests,
    url: (repo) => `${baseUrl}/${repo.replace(/^\/+/, '')}`,
    resetLog: () => {
      requests.length = 0;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Clients keep connections alive (Node 20's global agent does); without destroying them
      // server.close() would wait and the uvu suite would never exit.
      for (const socket of sockets) socket.destroy();
      for (const child of children) child.kill('SIGKILL');
      await closed;
    },
  };
}

function logEntry(req: IncomingMessage): GitServerRequest {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const fromQuery = url.searchParams.get('service');
  const fromPath = /\/(git-(?:upload|receive)-pack)$/.exec(url.pathname)?.[1];
  const service = fromQuery ?? fromPath;
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    at: Date.now(),
    query: url.search.replace(/^\?/, ''),
    ...(service ? { service } : {}),
    status: 0,
    bytesOut: 0,
  };
}

/** The REMOTE_USER to pass on, `undefined` when no token is required, `false` when refused. */
function authenticate(header: string | undefined, token: string | undefined): string | undefined | false {
  if (token === undefined) return undefined;
  if (!header) return false;
  const [scheme, value = ''] = header.split(/\s+/, 2);
  if (scheme?.toLowerCase() === 'bearer') return value === token ? 'bearer' : false;
  if (scheme?.toLowerCase() !== 'basic') return false;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  return decoded.slice(colon + 1) === token ? decoded.slice(0, colon) || 'anonymous' : false;
}

interface CgiContext extends GitServerOptions {
  remoteUser: string | undefined;
  children: Set<ChildProcess>;
}

function serveCgi(req: IncomingMessage, res: ServerResponse, entry: GitServerRequest, ctx: CgiContext): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    // Keep the host's git configuration out of the server's behaviour.
    HOME: ctx.root,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    // http-backend refuses anonymous pushes unless receive-pack is enabled explicitly.
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.receivepack',
    GIT_CONFIG_VALUE_0: 'true',
    GIT_PROJECT_ROOT: ctx.root,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ''),
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
  };
  const h = req.headers;
  if (h['content-type']) env.CONTENT_TYPE = h['content-type'];
  if (h['content-length']) env.CONTENT_LENGTH = h['content-length'];
  // Native git gzips large request bodies; http-backend inflates them itself when told.
  if (h['content-encoding']) env.HTTP_CONTENT_ENCODING = String(h['content-encoding']);
  const protocol = h['git-protocol'];
  if (protocol) env.GIT_PROTOCOL = Array.isArray(protocol) ? protocol.join(':') : protocol;
  if (ctx.remoteUser) env.REMOTE_USER = ctx.remoteUser;

  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  ctx.children.add(child);
  child.on('close', () => ctx.children.delete(child));
  const stderr: Buffer[] = [];
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  child.stdin.on('error', () => undefined);
  req.pipe(child.stdin);
  res.on('close', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  let head: Buffer | null = Buffer.alloc(0);
  const sendBody = (chunk: Buffer): void => {
    const limit = ctx.maxBytesPerResponse;
    if (limit !== undefined && entry.bytesOut + chunk.length > limit) {
      const allowed = chunk.subarray(0, limit - entry.bytesOut);
      entry.bytesOut += allowed.length;
      entry.truncated = true;
      res.write(allowed, () => res.destroy());
      child.kill('SIGKILL');
      return;
    }
    entry.bytesOut += chunk.length;
    if (!res.write(chunk)) {
      child.stdout.pause();
      res.once('drain', () => child.stdout.resume());
    }
  };

  child.stdout.on('data', (chunk: Buffer) => {
    if (entry.truncated) return;
    if (head === null) return sendBody(chunk);
    head = Buffer.concat([head, chunk]);
    const parsed = parseCgiHead(head);
    if (!parsed) return;
    head = null;
    entry.status = parsed.status;
    res.writeHead(parsed.status, parsed.headers);
    if (parsed.rest.length > 0) sendBody(parsed.rest);
  });
  child.on('close', (code) => {
    if (entry.truncated) return;
    if (head !== null && !res.headersSent) {
      entry.status = 502;
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`git http-backend exited with ${code}: ${Buffer.concat(stderr).toString('utf8')}`);
      return;
    }
    res.end();
  });
  child.on('error', (err) => {
    if (!res.headersSent) {
      entry.status = 500;
      res.writeHead(500, { 'Content-Type': 'text/plain' });
    }
    res.end(String(err));
  });
}

interface CgiHead {
  status: number;
  headers: Record<string, string>;
  rest: Buffer;
}

// CGI output: header lines (CRLF or LF), a blank line, then the body. `Status:` carries the code.
function parseCgiHead(buf: Buffer): CgiHead | null {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  let end: number;
  let sep: number;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) [end, sep] = [crlf, 4];
  else if (lf >= 0) [end, sep] = [lf, 2];
  else return null;

  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of buf.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers, rest: buf.subarray(end + sep) };
}
