import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import git from 'isomorphic-git';
import nodeHttp from 'isomorphic-git/http/node';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { DuckError } from '../../../schemas/errors.js';
import type { ChannelTransport } from '../ports.js';
import { isomorphicGitObjects } from './isomorphic-git-objects.js';
import { channelFs } from './git-fs.js';

export interface GitChannelOptions {
  url: string;
  branch: string;
  /** The bare clone lives here, inside the agent's state directory. */
  gitdir: string;
  token?: string | undefined;
  /** A fetch that would download more than this is stopped with `too-large`. */
  maxFetchBytes: number;
}

/** The channel over git smart HTTP(S) with isomorphic-git, kept as a bare clone. */
export function openGitChannel(opts: GitChannelOptions): ChannelTransport {
  const cache = {};
  const { gitdir } = opts;
  const clone = channelFs(gitdir);
  const fs = clone.fs;
  // Sending credentials up front saves the 401 round trip isomorphic-git's onAuth would cost each poll.
  const headers: Record<string, string> = opts.token
    ? { Authorization: `Basic ${Buffer.from(`duck:${opts.token}`).toString('base64')}` }
    : {};
  const http = cappedHttp(opts.maxFetchBytes, opts.url);
  const ref = `refs/heads/${opts.branch}`;

  const objects = isomorphicGitObjects(fs, gitdir, cache);


  const ensureRepo = async (): Promise<void> => {
    if (!existsSync(`${gitdir}/HEAD`)) await git.init({ fs, gitdir, bare: true, defaultBranch: opts.branch });
    // isomorphic-git fetches only through a configured remote (a bare url gives NoRefspecError).
    await git.addRemote({ fs, gitdir, remote: 'origin', url: opts.url, force: true });
  };

  return {
    objects,
    remoteTip: async () => {
      const info = await networkCall(opts.url, () => git.getRemoteInfo2({ http, url: opts.url, headers, protocolVersion: 1 }));
      const tip = info.refs?.find((r) => r.ref === ref)?.oid;
      if (!tip) throw new DuckError('fetch', `${opts.url}: the server has no branch "${opts.branch}"`, { field: '/channel/branch' });
      return tip;
    },
    fetch: async () => {
      await ensureRepo();
      clone.invalidate();
      const result = await networkCall(opts.url, () =>
        git.fetch({ fs, http, gitdir, remote: 'origin', ref: opts.branch, singleBranch: true, tags: false, headers, cache }),
      );
      if (!result.fetchHead) throw new DuckError('fetch', `${opts.url}: fetch returned no tip for "${opts.branch}"`);
      // isomorphic-git offers as "haves" only what the local branch name resolves to; without this
      // ref every fetch would download the whole channel again.
      await git.writeRef({ fs, gitdir, ref, value: result.fetchHead, force: true });
      clone.invalidate();
      return result.fetchHead;
    },
    reset: async () => {
      await rm(gitdir, { recursive: true, force: true });
      clone.invalidate();
      for (const key of Object.keys(cache)) delete (cache as Record<string, unknown>)[key];
    },
  };
}

async function networkCall<T>(url: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof DuckError) throw err;
    const e = err as Error & { code?: string; data?: { statusCode?: number } };
    const status = e.data?.statusCode;
    const detail = status ? `HTTP ${status}` : (e.code ?? e.message);
    throw new DuckError('fetch', `${url}: fetching the channel failed (${detail}): ${e.message}`, { url }, 'transient', { cause: err });
  }
}

/** Wraps the HTTP client so a response body past the cap aborts the download with `too-large`. */
function cappedHttp(maxBytes: number, url: string): HttpClient {
  return {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const res = await nodeHttp.request(req);
      const body = res.body;
      if (!body) return res;
      async function* counted(): AsyncIterableIterator<Uint8Array> {
        let total = 0;
        for await (const chunk of body!) {
          total += chunk.length;
          if (total > maxBytes) {
            throw new DuckError('too-large', `${url}: the channel download exceeds the ${maxBytes}-byte limit (limits.maxFetchBytes)`, {
              field: '/limits/maxFetchBytes',
            });
          }
          yield chunk;
        }
      }
      return { ...res, body: counted() };
    },
  };
}
