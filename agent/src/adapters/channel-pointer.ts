import { DuckError, toDuckError } from '../../../schemas/errors.js';
import type { FetchDeadlines } from '../core/limits.js';
import { parsePointer } from '../core/pointer-policy.js';
import type { ChannelPointer } from '../ports.js';
import type { ChannelResponse } from './channel-http.js';
import { channelHttp, collectBody, MAX_REDIRECTS, REDIRECT_STATUSES, redirectTarget } from './channel-http.js';

/** A pointer is one commit id: anything past this is not one (and not worth reading). */
export const MAX_POINTER_BYTES = 1024;

interface Validators {
  readonly id: string;
  readonly etag: string | undefined;
  readonly lastModified: string | undefined;
}

/**
 * agent.yaml channel.pointer over plain HTTP(S) (DESIGN §4.5): a conditional GET — the last
 * answer's ETag and Last-Modified sent back, so a CDN answers 304 with no body — capped at 1 KiB
 * and under the channel's deadlines, redirects followed as a Pages site needs. No token is sent: the pointer is public and untrusted.
 * Every failure (network, status, size, content) is a transient `fetch`, with the status and any
 * Retry-After in its data: the fetch stage falls back to git and the cycle times the next try.
 */
export function openChannelPointer(opts: { url: string; deadlines: FetchDeadlines; now?: () => number }): ChannelPointer {
  const http = channelHttp({ url: opts.url, maxBytes: MAX_POINTER_BYTES, deadlines: opts.deadlines });
  let last: Validators | null = null;
  const fail = (detail: string, data: Record<string, unknown> = {}, cause?: unknown): DuckError =>
    new DuckError('fetch', `the tip pointer ${opts.url}: ${detail}`, { url: opts.url, field: '/channel/pointer', ...data }, 'transient', { cause });

  const read = async (): Promise<string> => {
    const op = http.operation();
    const headers: Record<string, string> = { Accept: 'text/plain' };
    if (last?.etag) headers['If-None-Match'] = last.etag;
    if (last?.lastModified) headers['If-Modified-Since'] = last.lastModified;
    try {
      return await op.run(
        (async () => {
          const res = await followRedirects((url) => op.http.request({ method: 'GET', url, headers }), opts.url);
          if (res.statusCode === 304 && last) {
            res.discard();
            return last.id;
          }
          if (res.statusCode !== 200) {
            res.discard();
            const retryAfter = res.headers['retry-after'];
            throw fail(`HTTP ${res.statusCode} ${res.statusMessage}`, { status: res.statusCode, ...(retryAfter ? { retryAfter } : {}) });
          }
          const text = (await collectBody(res.body)).toString('utf8');
          const id = parsePointer(text);
          if (!id) throw fail(`not a commit id (it reads ${JSON.stringify(text.slice(0, 80))})`);
          last = { id, etag: header(res.headers.etag), lastModified: header(res.headers['last-modified']) };
          return id;
        })(),
      );
    } catch (err) {
      if (err instanceof DuckError && err.data.field === '/channel/pointer') throw err;
      const e = toDuckError(err);
      // Over the cap is a broken pointer, never a refusal of the channel.
      const detail = e.code === 'too-large' ? `larger than ${MAX_POINTER_BYTES} bytes` : e.message;
      throw fail(detail, {}, err);
    }
  };
  return { url: opts.url, read, memory: { gitAskedAt: (opts.now ?? Date.now)(), fallbackAt: null, spread: Math.random(), unconfirmed: null } };
}

/**
 * Pages sites redirect (github.io to a custom domain, http to https): followed up to five hops,
 * never from https down to http.
 */
async function followRedirects(get: (url: string) => Promise<ChannelResponse>, url: string): Promise<ChannelResponse> {
  let at = url;
  for (let hop = 0; ; hop++) {
    const res = await get(at);
    const location = res.headers.location;
    if (!REDIRECT_STATUSES.has(res.statusCode) || !location) return res;
    res.discard();
    if (hop === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    at = redirectTarget(at, location).toString();
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
