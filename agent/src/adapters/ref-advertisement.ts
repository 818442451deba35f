import type { HttpClient } from './channel-http.js';
import { collectBody, httpError, splitCredentials } from './channel-http.js';
import { pktLines } from './pkt-line.js';

/** What a v1 upload-pack advertisement says: each ref's object id, and what the server can do. */
export interface Advertisement {
  readonly refs: ReadonlyMap<string, string>;
  readonly capabilities: ReadonlySet<string>;
}

/**
 * The refs a smart-HTTP git server advertises (protocol v1: one GET of `info/refs`). The poll that
 * finds nothing new is the agent's most frequent request: it costs this one request and no more.
 * Failures are plain errors (`data.statusCode` for an HTTP status), worded by the caller.
 */
export async function advertisedRefs(http: HttpClient, url: string, headers: Readonly<Record<string, string>>): Promise<Advertisement> {
  const { bare, auth } = splitCredentials(url);
  const res = await http.request({
    method: 'GET',
    url: `${bare}/info/refs?service=git-upload-pack`,
    headers: auth ? { ...headers, Authorization: auth } : { ...headers },
  });
  const body = await collectBody(res.body);
  if (res.statusCode !== 200) throw httpError(res);
  return parseAdvertisement(body);
}

const SERVICE_LINE = '# service=git-upload-pack';
const WHAT = 'the ref advertisement';

/** Parses a v1 upload-pack advertisement: `# service=` line, flush, then `<oid> <ref>` lines (capabilities after a NUL on the first). */
export function parseAdvertisement(body: Buffer): Advertisement {
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
