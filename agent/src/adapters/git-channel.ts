import { rm } from 'node:fs/promises';
import { DuckError } from '../../../schemas/errors.js';
import type { FetchDeadlines } from '../core/limits.js';
import type { ChannelTransport } from '../ports.js';
import type { ChannelOperation } from './channel-http.js';
import { channelHttp } from './channel-http.js';
import { cloneFiles } from './clone-files.js';
import { openObjectStore } from './git-object-store.js';
import { gitObjectsOf } from './git-objects.js';
import { indexHolds, indexPack } from './git-pack-index.js';
import type { Advertisement } from './ref-advertisement.js';
import { advertisedRefs } from './ref-advertisement.js';
import { fetchPack } from './upload-pack.js';

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
  /** This node's version, sent as git's `agent=duck/<version>` capability. */
  version?: () => Promise<string>;
}

/**
 * The channel over git smart HTTP(S), kept as a bare clone, with no git library: the ref request
 * (`ref-advertisement`), the pack request (`upload-pack`), the pack checked and indexed in one pass
 * (`git-pack-index`) and stored (`clone-files`), the clone read by id (`git-object-store`).
 */
export function openGitChannel(opts: GitChannelOptions): ChannelTransport {
  const { gitdir } = opts;
  const store = openObjectStore(gitdir);
  const files = cloneFiles(gitdir, opts.branch);
  // Credentials go with the first request: a 401 round trip on every poll would double its cost.
  const headers: Record<string, string> = opts.token
    ? { Authorization: `Basic ${Buffer.from(`duck:${opts.token}`).toString('base64')}` }
    : {};
  const http = channelHttp({ url: opts.url, maxBytes: opts.maxFetchBytes, deadlines: opts.deadlines });
  const ref = `refs/heads/${opts.branch}`;
  // The advertisement remoteTip() read, kept for the fetch that follows it (one request fewer): the
  // fetch then downloads exactly the tip the caller was told of.
  let advertised: Advertisement | null = null;

  const tipOf = (refs: Advertisement): string => {
    const tip = refs.refs.get(ref);
    if (!tip) throw new DuckError('fetch', `${opts.url}: the server has no branch "${opts.branch}"`, { field: '/channel/branch' });
    return tip;
  };
  const advertise = (op: ChannelOperation): Promise<Advertisement> => advertisedRefs(op.http, opts.url, headers);

  return {
    objects: gitObjectsOf(store),
    remoteTip: async () => {
      advertised = null;
      const refs = await networkCall(opts.url, http.operation(), advertise);
      advertised = refs;
      return tipOf(refs);
    },
    fetch: async () => {
      const known = advertised;
      advertised = null;
      const op = http.operation();
      const refs = known ?? (await networkCall(opts.url, op, advertise));
      const tip = tipOf(refs);
      // A have is a promise that its whole history is here: only the branch ref, which is written
      // after the pack it needs, and only if the clone holds it.
      const local = await files.branchTip();
      const haves = local !== null && local !== tip && store.has(local) ? [local] : [];
      if (local === tip && store.has(tip)) return tip;
      const agent = `duck/${(await opts.version?.()) ?? 'unknown'}`;
      // The upload-pack goes where the ref request was answered from (after a redirect, as git does).
      const { repository } = refs;
      const sent = repository.sameOrigin ? headers : {};
      const pack = await networkCall(opts.url, op, (o) => fetchPack(o.http, repository.url, sent, { want: tip, haves, capabilities: refs.capabilities, agent }));
      const idx = await indexPack(pack, { maxBytes: opts.maxObjectBytes, source: opts.url, externalBase: (oid) => store.read(oid) });
      // A pack without the tip is not kept: the clone stays as it was.
      if (!indexHolds(idx, tip)) throw new DuckError('fetch', `${opts.url}: the downloaded pack does not hold the tip ${tip.slice(0, 12)} of "${opts.branch}"`, { url: opts.url });
      await files.storePack(pack, idx);
      await files.setBranchTip(tip);
      return tip;
    },
    reset: async () => {
      advertised = null;
      await rm(gitdir, { recursive: true, force: true });
      store.invalidate();
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
