import type * as NodeHttp from 'node:http';
import type { Agent, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type * as NodeHttps from 'node:https';
import { DuckError } from '../../../schemas/errors.js';
import { formatDuration } from '../core/duration.js';
import type { FetchDeadlines } from '../core/limits.js';

export interface ChannelHttpOptions {
  readonly url: string;
  /** A response body past this many bytes is stopped with `too-large` (limits.maxFetchBytes). */
  readonly maxBytes: number;
  readonly deadlines: FetchDeadlines;
}

export interface ChannelRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

export interface ChannelResponse {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly headers: IncomingHttpHeaders;
  /** Read it to its end, or stop reading: either way the socket goes back to the pool or is closed. */
  readonly body: AsyncIterableIterator<Uint8Array>;
  /** Closes the connection without reading the body. */
  discard(): void;
}

export interface HttpClient {
  request(req: ChannelRequest): Promise<ChannelResponse>;
}

/** One git operation's HTTP client (a ref request, or a fetch's discovery and upload-pack). */
export interface ChannelOperation {
  readonly http: HttpClient;
  /** Settles with `call`, or rejects with the first deadline a request of this operation passed. */
  run<T>(call: Promise<T>): Promise<T>;
}

/**
 * The HTTP client the channel is fetched through (DESIGN §3, bounds against a hostile server):
 * every request has a total and an idle deadline, and a body past the byte cap is stopped. A
 * passed deadline destroys the socket and fails the request with `fetch`, naming the cause.
 *
 * Deadlines are timed only while the client waits for the server (for the answer, then for each
 * chunk): the time spent indexing a complete pack is local work, not the server's, and a body the
 * reader stopped reading costs no timer. Plain node:http(s): it follows no redirect itself (the ref
 * request does, as git does for its first request only), no compression is asked for.
 *
 * Its own keep-alive agent: Node's global one cuts any socket silent for 5 s, which dropped a
 * slow but live upload-pack; here only the configured idle deadline does.
 */
export function channelHttp(opts: ChannelHttpOptions): { operation(): ChannelOperation } {
  // One per scheme: a redirect may lead from one to the other.
  let agents: Agents | null = null;
  const request = async (req: ChannelRequest, onCut: (err: DuckError) => void): Promise<ChannelResponse> => {
    const clients = await loadClients();
    agents ??= { http: new clients.http.Agent({ keepAlive: true }), https: new clients.https.Agent({ keepAlive: true }) };
    const secure = req.url.startsWith('https:');
    return watchedRequest(req, secure ? clients.https : clients.http, secure ? agents.https : agents.http, opts, onCut);
  };
  return {
    operation() {
      let cutError: DuckError | null = null;
      let cutOperation: (err: DuckError) => void = () => undefined;
      const operationCut = new Promise<never>((_, reject) => (cutOperation = reject));
      operationCut.catch(() => undefined);
      const onCut = (err: DuckError): void => {
        cutError ??= err;
        cutOperation(err);
      };
      return {
        http: { request: (req) => request(req, onCut) },
        run: async (call) => {
          try {
            return await Promise.race([call, operationCut]);
          } catch (err) {
            // A reader may wrap a body's error in its own parse error: the deadline is the cause.
            throw cutError ?? err;
          }
        },
      };
    },
  };
}

interface Clients {
  readonly http: typeof NodeHttp;
  readonly https: typeof NodeHttps;
}

interface Agents {
  readonly http: Agent;
  readonly https: Agent;
}

// node:http and node:https (with TLS) load with the first request: a command that only reads the
// clone (duck status) does not pay for them.
let clients: Promise<Clients> | null = null;
const loadClients = (): Promise<Clients> => (clients ??= Promise.all([import('node:http'), import('node:https')]).then(([http, https]) => ({ http, https })));

interface Deadline {
  readonly cause: string;
  readonly field: string;
}

async function watchedRequest(req: ChannelRequest, client: Clients['http'] | Clients['https'], agent: Agent, opts: ChannelHttpOptions, onCut: (err: DuckError) => void): Promise<ChannelResponse> {
  const { totalMs, idleMs } = opts.deadlines;
  const controller = new AbortController();
  const startedAt = Date.now();
  let rejectCut: (err: DuckError) => void = () => undefined;
  const cut = new Promise<never>((_, reject) => (rejectCut = reject));
  cut.catch(() => undefined);
  const cancel = (deadline: Deadline): void => {
    const err = new DuckError('fetch', `${req.url}: ${deadline.cause}: the request was cancelled`, { url: opts.url, field: deadline.field }, 'transient');
    controller.abort(err);
    rejectCut(err);
    onCut(err);
  };
  const total: Deadline = { cause: `not finished after ${formatDuration(totalMs)} (total deadline, limits.fetchTimeout)`, field: '/limits/fetchTimeout' };
  const idle: Deadline = { cause: `no byte from the server for ${formatDuration(idleMs)} (idle deadline, limits.fetchIdleTimeout)`, field: '/limits/fetchIdleTimeout' };
  /** Waits for the server, with whichever deadline comes first. */
  const waitFor = async <T>(pending: Promise<T>): Promise<T> => {
    const left = startedAt + totalMs - Date.now();
    const [ms, deadline] = left <= idleMs ? [left, total] : [idleMs, idle];
    const timer = setTimeout(() => cancel(deadline), Math.max(0, ms));
    try {
      return await Promise.race([pending, cut]);
    } finally {
      clearTimeout(timer);
    }
  };

  const res = await waitFor(send(req, client, agent, controller.signal));
  async function* watched(): AsyncIterableIterator<Uint8Array> {
    const chunks = (res as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    let received = 0;
    let finished = false;
    try {
      for (;;) {
        const next = await waitFor(chunks.next());
        if (next.done) {
          finished = true;
          return;
        }
        received += next.value.length;
        if (received > opts.maxBytes) {
          throw new DuckError('too-large', `${opts.url}: the channel download exceeds the ${opts.maxBytes}-byte limit (limits.maxFetchBytes)`, {
            field: '/limits/maxFetchBytes',
          });
        }
        yield next.value;
      }
    } finally {
      // A body not read to its end leaves no half-read socket in the pool.
      if (!finished) controller.abort();
    }
  }
  return { statusCode: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, body: watched(), discard: () => controller.abort() };
}

// Cancelled by destroying the request and its answer, not with http.request's `signal`: that one
// fails the socket with an error no listener takes once the answer has arrived.
function send(req: ChannelRequest, client: Clients['http'] | Clients['https'], agent: Agent, signal: AbortSignal): Promise<IncomingMessage> {
  const headers = req.body ? { ...req.headers, 'Content-Length': String(req.body.length) } : req.headers;
  return new Promise((resolve, reject) => {
    const out = client.request(req.url, { method: req.method, headers, agent }, (res) => {
      signal.addEventListener('abort', () => res.destroy(), { once: true });
      // The body's reader sees its errors; one nobody reads any more must not crash the process.
      res.on('error', () => undefined);
      resolve(res);
    });
    // Also the listener for an error after the answer came: the body's reader sees it then.
    out.on('error', reject);
    signal.addEventListener('abort', () => out.destroy(), { once: true });
    out.end(req.body);
  });
}

/** A URL's user and password become a Basic Authorization header, as git does; the URL sent has neither. */
export function splitCredentials(url: string): { bare: string; auth: string | null } {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return { bare: url, auth: null };
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
  return { bare: withUserInfo(url, '', ''), auth };
}

/** `to` with the user and password of `configured` (same origin only: the caller checks). */
export function withCredentialsOf(configured: string, to: string): string {
  const from = new URL(configured);
  if (!from.username && !from.password) return to;
  return withUserInfo(to, from.username, from.password);
}

// A trailing slash is kept only where the URL had one: WHATWG URL adds one to a bare origin.
function withUserInfo(url: string, username: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = username;
  parsed.password = password;
  return parsed.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
}

/** The statuses a redirect answers with (a 300 names no single place and is not followed). */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** As curl's default for git: a loop or a chain longer than this is a misconfigured server. */
export const MAX_REDIRECTS = 5;

/**
 * Where a redirect from `from` leads, by the rules git keeps for any channel request: never from
 * https down to http (a network attacker could then answer), never to a scheme but http(s).
 */
export function redirectTarget(from: string, location: string): URL {
  const next = new URL(location, from);
  if (new URL(from).protocol === 'https:' && next.protocol !== 'https:') {
    throw new Error(`the server redirected ${from} to ${next.protocol}//${next.host}: a redirect from https to ${next.protocol.replace(/:$/, '')} is refused`);
  }
  if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new Error(`the server redirected ${from} to a ${next.protocol} URL`);
  return next;
}

/** A status other than 200, as a plain error with `data.statusCode` (and `retryAfter` when sent): the caller words it. */
export function httpError(res: ChannelResponse): Error {
  const retryAfter = res.headers['retry-after'];
  const data = { statusCode: res.statusCode, ...(typeof retryAfter === 'string' ? { retryAfter } : {}) };
  return Object.assign(new Error(`HTTP Error: ${res.statusCode} ${res.statusMessage}`), { code: 'HttpError', data });
}

export async function collectBody(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}
