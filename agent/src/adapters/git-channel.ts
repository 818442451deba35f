import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type git from 'isomorphic-git';
import { DuckError } from '../../../schemas/errors.js';
import type { FetchDeadlines } from '../core/limits.js';
import type { ChannelTransport } from '../ports.js';
import { openObjectStore } from './git-object-store.js';
import { gitObjectsOf } from './git-objects.js';
import { channelFs, PackStored } from './git-fs.js';
import { indexPack } from './git-pack-index.js';
import type { ChannelOperation } from './channel-http.js';
import { channelHttp } from './channel-http.js';
import { advertisedRefs } from './ref-advertisement.js';

export interface GitChannelOptions {
  url: string;
  branch: string;
  /** The bare clone lives here, inside the agent's state directory. */
  gitdir: string;
  token?: string | undefined;
  /** A fetch that would download more than this is stopped with `too-large`. */
  maxFetchBytes: number;
  /** A downloaded object over this (limits.maxFileBytes) is refused with `too-large` before it is inflated. */
  maxObjectBytes: number;
  /** Every request to the server is cancelled past these (limits.fetchTimeout, limits.fetchIdleTimeout). */
  deadlines: FetchDeadlines;
}

/** The channel over git smart HTTP(S) with isomorphic-git, kept as a bare clone. */
// isomorphic-git (a fifth of a second of CPU to load, ~19 MiB) serves only the download: a command
// that reads the clone, or only asks the server for its tip (`ref-advertisement`), never loads it.
let isomorphicGit: Promise<typeof git> | null = null;
const loadGit = (): Promise<typeof git> => (isomorphicGit ??= import('isomorphic-git').then((m) => m.default));

export function openGitChannel(opts: GitChannelOptions): ChannelTransport {
  const cache = {};
  const { gitdir } = opts;
  const store = openObjectStore(gitdir);
  // Checked and indexed in one pass; the index is written last (and whole) because a reader finds
  // packs by their index.
  const storePack = async (path: string, pack: Uint8Array): Promise<void> => {
    const idx = await indexPack(pack, { maxBytes: opts.maxObjectBytes, source: opts.url, externalBase: (oid) => store.read(oid) });
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, pack);
    const idxPath = path.replace(/\.pack$/, '.idx');
    await writeFile(`${idxPath}.tmp`, idx);
    await rename(`${idxPath}.tmp`, idxPath);
  };
  const clone = channelFs(gitdir, { storePack });
  const fs = clone.fs;
  // Sending credentials up front saves the 401 round trip isomorphic-git's onAuth would cost each poll.
  const headers: Record<string, string> = opts.token
    ? { Authorization: `Basic ${Buffer.from(`duck:${opts.token}`).toString('base64')}` }
    : {};
  const http = channelHttp({ url: opts.url, maxBytes: opts.maxFetchBytes, deadlines: opts.deadlines });
  const ref = `refs/heads/${opts.branch}`;

  const objects = gitObjectsOf(store);

  const ensureRepo = async (): Promise<void> => {
    const git = await loadGit();
    if (!existsSync(`${gitdir}/HEAD`)) await git.init({ fs, gitdir, bare: true, defaultBranch: opts.branch });
    // isomorphic-git fetches only through a configured remote (a bare url gives NoRefspecError).
    await git.addRemote({ fs, gitdir, remote: 'origin', url: opts.url, force: true });
  };

  return {
    objects,
    remoteTip: async () => {
      const refs = await networkCall(opts.url, http.operation(), (op) => advertisedRefs(op.http, opts.url, headers));
      const tip = refs.get(ref);
      if (!tip) throw new DuckError('fetch', `${opts.url}: the server has no branch "${opts.branch}"`, { field: '/channel/branch' });
      return tip;
    },
    fetch: async () => {
      const git = await loadGit();
      await ensureRepo();
      clone.invalidate();
      const result = await networkCall(opts.url, http.operation(), (op) =>
        git.fetch({ fs, http: op.http, gitdir, remote: 'origin', ref: opts.branch, singleBranch: true, tags: false, headers, cache }).catch(async (err: unknown) => {
          if (!(err instanceof PackStored)) throw err;
          return { fetchHead: await git.resolveRef({ fs, gitdir, ref: `refs/remotes/origin/${opts.branch}` }) };
        }),
      ).catch(async (err: unknown) => {
        // isomorphic-git moves the remote-tracking ref before the pack arrives: a cut fetch leaves none.
        await git.deleteRef({ fs, gitdir, ref: `refs/remotes/origin/${opts.branch}` }).catch(() => undefined);
        clone.invalidate();
        throw err;
      });
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
      store.invalidate();
      for (const key of Object.keys(cache)) delete (cache as Record<string, unknown>)[key];
    },
  };
}

async function networkCall<T>(url: string, op: ChannelOperation, call: (op: ChannelOperation) => Promise<T>): Promise<T> {
  try {
    return await op.run(call(op));
  } catch (err) {
    if (err instanceof DuckError) throw err;
    const e = err as Error & { code?: string; data?: { statusCode?: number } };
    const status = e.data?.statusCode;
    const detail = status ? `HTTP ${status}` : (e.code ?? e.message);
    throw new DuckError('fetch', `${url}: fetching the channel failed (${detail}): ${e.message}`, { url }, 'transient', { cause: err });
  }
}
