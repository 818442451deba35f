import http from 'node:http';
import https from 'node:https';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { DuckError } from '../../../schemas/errors.js';
import { formatDuration } from '../core/duration.js';
import type { FetchDeadlines } from '../core/limits.js';

export interface ChannelHttpOptions {
  readonly url: string;
  /** A response body past this many bytes is stopped with `too-large` (limits.maxFetchBytes). */
  readonly maxBytes: number;
  readonly deadlines: FetchDeadlines;
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
 * chunk): the time isomorphic-git spends indexing a complete pack is local work, not the server's,
 * and a body it stopped reading (a ref advertisement past its flush) costs no timer.
 *
 * Its own keep-alive agent: Node's global one cuts any socket silent for 5 s, which dropped a
 * slow but live upload-pack; here only the configured idle deadline does.
 */
export function channelHttp(opts: ChannelHttpOptions): { operation(): ChannelOperation } {
  const agent = opts.url.startsWith('https:') ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
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
        http: { request: (req) => watchedRequest(req, agent, opts, onCut) },
        run: async (call) => {
          try {
            return await Promise.race([call, operationCut]);
          } catch (err) {
            // isomorphic-git may wrap a body's error in its own parse error: the deadline is the cause.
            throw cutError ?? err;
          }
        },
      };
    },
  };
}

interface Deadline {
  readonly cause: string;
  readonly field: string;
}

async function watchedRequest(req: GitHttpRequest, agent: http.Agent, opts: ChannelHttpOptions, onCut: (err: DuckError) => void): Promise<GitHttpResponse> {
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

  // Loaded with the first request (it brings simple-get): a command that asks the server nothing never loads it.
  const { default: nodeHttp } = await import('isomorphic-git/http/node');
  const res = await waitFor(nodeHttp.request({ ...req, agent, signal: controller.signal }));
  const body = res.body;
  if (!body) return res;
  async function* watched(): AsyncIterableIterator<Uint8Array> {
    const chunks = body![Symbol.asyncIterator]();
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
  return { ...res, body: watched() };
}
