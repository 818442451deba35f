import type { HttpClient } from './channel-http.js';
import { collectBody, httpError, MAX_REDIRECTS, REDIRECT_STATUSES, redirectTarget, splitCredentials, withCredentialsOf } from './channel-http.js';
import { pktLines } from './pkt-line.js';

/** What a v1 upload-pack advertisement says: each ref's object id, and what the server can do. */
export interface AdvertisedRefs {
  readonly refs: ReadonlyMap<string, string>;
  readonly capabilities: ReadonlySet<string>;
}

export interface Advertisement extends AdvertisedRefs {
  /** The repository that answered: the configured URL, or where a redirect of the ref request led. */
  readonly repository: Repository;
}

export interface Repository {
  /** With the configured URL's user and password when on the configured origin. */
  readonly url: string;
  /** False after a redirect to another origin: the configured credentials do not follow it. */
  readonly sameOrigin: boolean;
}

const SERVICE_PATH = '/info/refs?service=git-upload-pack';

/**
 * The refs a smart-HTTP git server advertises (protocol v1: one GET of `info/refs`). The poll that
 * finds nothing new is the agent's most frequent request: it costs this one request and no more.
 * A redirect is followed as git follows it (only for this first request of an operation): the
 * repository it leads to is where the upload-pack goes. Failures are plain errors (`data.statusCode`
 * for an HTTP status), worded by the caller.
 */
export async function advertisedRefs(http: HttpClient, url: string, headers: Readonly<Record<string, string>>): Promise<Advertisement> {
  const { bare, auth } = splitCredentials(url);
  let repository: Repository = { url, sameOrigin: true };
  let at = bare;
  for (let hop = 0; ; hop++) {
    const sent = repository.sameOrigin ? { ...headers, ...(auth ? { Authorization: auth } : {}) } : withoutAuthorization(headers);
    const res = await http.request({ method: 'GET', url: `${at}${SERVICE_PATH}`, headers: sent });
    const location = res.headers.location;
    if (REDIRECT_STATUSES.has(res.statusCode) && location) {
      res.discard();
      if (hop === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects from ${bare}${SERVICE_PATH}`);
      at = redirectedRepository(`${at}${SERVICE_PATH}`, location);
      const sameOrigin = repository.sameOrigin && new URL(at).origin === new URL(bare).origin;
      repository = { url: sameOrigin ? withCredentialsOf(url, at) : at, sameOrigin };
      continue;
    }
    const body = await collectBody(res.body);
    if (res.statusCode !== 200) throw httpError(res);
    return { ...parseAdvertisement(body), repository };
  }
}

/**
 * Where a redirect of the ref request leads: git takes a new repository only when the redirect
 * keeps the `info/refs?service=` ending (otherwise it cannot tell the repository's URL); the scheme
 * rules are every redirect's (`redirectTarget`).
 */
export function redirectedRepository(from: string, location: string): string {
  const next = redirectTarget(from, location);
  next.username = '';
  next.password = '';
  const href = next.toString();
  if (!href.endsWith(SERVICE_PATH)) throw new Error(`the server redirected ${from} to ${href}, which is not a git repository's ref advertisement`);
  return href.slice(0, -SERVICE_PATH.length);
}

function withoutAuthorization(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
}

const SERVICE_LINE = '# service=git-upload-pack';
const WHAT = 'the ref advertisement';

/** Parses a v1 upload-pack advertisement: `# service=` line, flush, then `<oid> <ref>` lines (capabilities after a NUL on the first). */
export function parseAdvertisement(body: Buffer): AdvertisedRefs {
  const refs = new Map<string, string>();
  let capabilities = new Set<string>();
  // The first packet names the service: anything else (a dumb server, a login page) is not git's answer.
  if (body.subarray(4, 4 + SERVICE_LINE.length).toString('latin1') !== SERVICE_LINE) {
    throw new Error(`not a smart-HTTP ref advertisement (it starts ${JSON.stringify(body.subarray(0, 64).toString('utf8'))})`);
  }
  const lines = pktLines(body, WHAT).slice(1);
  for (const line of lines) {
    if (line === null) continue;
    const [text, caps] = line.replace(/\n$/, '').split('\0') as [string, string | undefined];
    if (caps !== undefined && refs.size === 0) capabilities = new Set(caps.split(' ').filter(Boolean));
    const match = /^([0-9a-f]{40}) (\S+)$/.exec(text);
    if (!match) throw new Error(`a malformed line in ${WHAT}: ${JSON.stringify(text.slice(0, 100))}`);
    // A repository with no refs advertises only its capabilities under this placeholder.
    if (match[2] === 'capabilities^{}') continue;
    refs.set(match[2]!, match[1]!);
  }
  return { refs, capabilities };
}
