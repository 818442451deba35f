import { DuckError, toDuckError } from '../../../schemas/errors.js';
import type { FetchDeadlines } from '../core/limits.js';
import { parsePointer } from '../core/pointer-policy.js';
import type { ChannelPointer } from '../ports.js';
import { channelHttp, collectBody } from './channel-http.js';

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
 * and under the channel's deadlines. No token is sent: the pointer is public and untrusted.
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
          const res = await op.http.request({ method: 'GET', url: opts.url, headers });
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

function header(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
