import { rm } from 'node:fs/promises';
import { DuckError, toDuckError } from '../../../schemas/errors.js';
import type { FetchDeadlines } from '../core/limits.js';
import type { ChannelPointer, ChannelTransport } from '../ports.js';
import type { ChannelOperation } from './channel-http.js';
import { channelHttp } from './channel-http.js';
import { cloneFiles } from './clone-files.js';
import { openObjectStore } from './git-object-store.js';
import { gitObjectsOf } from './git-objects.js';
import { indexHolds, indexPack } from './git-pack-index.js';
import type { Advertisement } from './ref-advertisement.js';
import { advertisedRefs } from './ref-advertisement.js';
import { fetchPack } from './upload-pack.js';

/** One git URL of the channel and its own token: a token goes to the URL it was configured for, only. */
export interface GitSource {
  readonly url: string;
  readonly token?: string | undefined;
}

export interface GitChannelOptions {
  url: string;
  branch: string;
  /** The bare clone lives here, inside the agent's state directory. */
  gitdir: string;
  token?: string | undefined;
  /** agent.yaml channel.mirrors: tried in order after `url` (DESIGN §4.5). */
  mirrors?: readonly GitSource[];
  /** agent.yaml channel.pointer, opened. */
  pointer?: ChannelPointer | null;
  /** A fetch that would download more than this is stopped with `too-large`. */
  maxFetchBytes: number;
  /** A downloaded object over this (limits.maxFileBytes) is refused with `too-large` before it is inflated. */
  maxObjectBytes: number;
  /** Every request to the server is cancelled past these (limits.fetchTimeout, limits.fetchIdleTimeout). */
  deadlines: FetchDeadlines;
  /** This node's version, sent as git's `agent=duck/<version>` capability. */
  version?: () => Promise<string>;
}

/** A source's advertisement, kept for the fetch that follows the ref request. */
interface Answered {
  readonly index: number;
  readonly refs: Advertisement;
}

/**
 * The channel over git smart HTTP(S), kept as a bare clone, with no git library: the ref request
 * (`ref-advertisement`), the pack request (`upload-pack`), the pack checked and indexed in one pass
 * (`git-pack-index`) and stored (`clone-files`), the clone read by id (`git-object-store`).
 *
 * Mirrors are tried in order after the primary when a request fails as a busy or broken server
 * fails (no connection, a deadline, 5xx, 429) or when one lacks the tip asked for; each is as
 * untrusted as the primary: whatever serves the commits, they are verified the same way.
 */
export function openGitChannel(opts: GitChannelOptions): ChannelTransport {
  const { gitdir } = opts;
  const store = openObjectStore(gitdir);
  const files = cloneFiles(gitdir, opts.branch);
  const sources: readonly GitSource[] = [{ url: opts.url, token: opts.token }, ...(opts.mirrors ?? [])];
  // Credentials go with the first request: a 401 round trip on every poll would double its cost.
  const headersOf = (source: GitSource): Record<string, string> =>
    source.token ? { Authorization: `Basic ${Buffer.from(`duck:${source.token}`).toString('base64')}` } : {};
  const http = channelHttp({ url: opts.url, maxBytes: opts.maxFetchBytes, deadlines: opts.deadlines });
  const ref = `refs/heads/${opts.branch}`;
  // The advertisement remoteTip() read, kept for the fetch that follows it (one request fewer): the
  // fetch then downloads exactly the tip the caller was told of.
  let advertised: Answered | null = null;

  const tipOf = (refs: Advertisement, url: string): string => {
    const tip = refs.refs.get(ref);
    if (!tip) throw new DuckError('fetch', `${url}: the server has no branch "${opts.branch}"`, { field: '/channel/branch' });
    return tip;
  };
  const advertise = (index: number): Promise<Advertisement> => {
    const source = sources[index]!;
    return networkCall(source.url, http.operation(), (op) => advertisedRefs(op.http, source.url, headersOf(source)));
  };
  /** The first source that answers, preferring one whose tip is `want`. */
  const discover = async (want: string | undefined): Promise<Answered> => {
    const failures: DuckError[] = [];
    let behind: Answered | null = null;
    for (let index = 0; index < sources.length; index++) {
      try {
        const refs = await advertise(index);
        const tip = tipOf(refs, sources[index]!.url);
        if (want === undefined || tip === want) return { index, refs };
        behind ??= { index, refs };
      } catch (err) {
        const e = toDuckError(err);
        if (!failsOver(e)) throw e;
        failures.push(e);
      }
    }
    // None has the tip the pointer named (the pointer may be ahead, or lie): the first answer stands.
    if (behind) return behind;
    throw allFailed(failures);
  };

  return {
    objects: gitObjectsOf(store),
    pointer: opts.pointer ?? null,
    localTip: () => files.branchTip(),
    remoteTip: async (want) => {
      advertised = null;
      const answered = await discover(want);
      advertised = answered;
      return tipOf(answered.refs, sources[answered.index]!.url);
    },
    fetch: async () => {
      const first = advertised ?? (await discover(undefined));
      advertised = null;
      const tip = tipOf(first.refs, sources[first.index]!.url);
      // A have is a promise that its whole history is here: only the branch ref, which is written
      // after the pack it needs, and only if the clone holds it.
      const local = await files.branchTip();
      if (local === tip && store.has(tip)) return tip;
      const haves = local !== null && store.has(local) ? [local] : [];
      const failures: DuckError[] = [];
      for (let index = first.index; index < sources.length; index++) {
        try {
          const refs = index === first.index ? first.refs : await advertise(index);
          // A mirror behind the tip the first answer named cannot serve it.
          if (refs.refs.get(ref) !== tip) continue;
          await download(sources[index]!, refs, tip, haves);
          return tip;
        } catch (err) {
          const e = toDuckError(err);
          if (!failsOver(e)) throw e;
          failures.push(e);
        }
      }
      throw allFailed(failures);
    },
    reset: async () => {
      advertised = null;
      await rm(gitdir, { recursive: true, force: true });
      store.invalidate();
    },
  };

  async function download(source: GitSource, refs: Advertisement, tip: string, haves: string[]): Promise<void> {
    const agent = `duck/${(await opts.version?.()) ?? 'unknown'}`;
    // The upload-pack goes where the ref request was answered from (after a redirect, as git does).
    const { repository } = refs;
    const sent = repository.sameOrigin ? headersOf(source) : {};
    const pack = await networkCall(source.url, http.operation(), (o) => fetchPack(o.http, repository.url, sent, { want: tip, haves, capabilities: refs.capabilities, agent }));
    const idx = await indexPack(pack, { maxBytes: opts.maxObjectBytes, source: source.url, externalBase: (oid) => store.read(oid) });
    // A pack without the tip is not kept: the clone stays as it was.
    if (!indexHolds(idx, tip)) throw new DuckError('fetch', `${source.url}: the downloaded pack does not hold the tip ${tip.slice(0, 12)} of "${opts.branch}"`, { url: source.url });
    await files.storePack(pack, idx);
    await files.setBranchTip(tip);
  }
}

/** A busy or broken server (no answer, a deadline, 5xx, 429): the next mirror may serve. */
function failsOver(e: DuckError): boolean {
  if (e.code !== 'fetch') return false;
  const status = typeof e.data.status === 'number' ? e.data.status : null;
  return status === null || status >= 500 || status === 429;
}

/** Every source failed: the primary's failure is the one reported (its status and Retry-After), the others named. */
function allFailed(failures: readonly DuckError[]): DuckError {
  const [first, ...rest] = failures;
  if (!first) return new DuckError('fetch', 'the channel has no source that serves it');
  if (rest.length === 0) return first;
  const others = rest.map((e) => e.message).join('; ');
  return new DuckError(first.code, `${first.message} (mirrors: ${others})`, first.data, first.retry, { cause: first });
}

async function networkCall<T>(url: string, op: ChannelOperation, call: (op: ChannelOperation) => Promise<T>): Promise<T> {
  try {
    return await op.run(call(op));
  } catch (err) {
    if (err instanceof DuckError) throw err;
    const e = err as Error & { code?: string; data?: { statusCode?: number; retryAfter?: string } };
    const status = e.data?.statusCode;
    const detail = status ? `HTTP ${status}` : (e.code ?? e.message);
    const retryAfter = e.data?.retryAfter;
    const data = { url, ...(status ? { status } : {}), ...(retryAfter ? { retryAfter } : {}) };
    throw new DuckError('fetch', `${url}: fetching the channel failed (${detail}): ${e.message}`, data, 'transient', { cause: err });
  }
}
