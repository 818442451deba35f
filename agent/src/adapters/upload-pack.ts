import { DuckError } from '../../../schemas/errors.js';
import type { HttpClient } from './channel-http.js';
import { httpError, splitCredentials } from './channel-http.js';
import { FLUSH_PKT, pktLine, streamedPktLines } from './pkt-line.js';

/**
 * The node's own smart-HTTP fetch (protocol v1, stateless): one POST to `git-upload-pack` that
 * wants the tip, names what the clone already has, and says `done` — no negotiation rounds, as the
 * clone's one branch tip is all it could name. The answer is the server's ACK/NAK, then the pack
 * multiplexed on side-band-64k: band 1 the pack, 2 progress (dropped), 3 a fatal error.
 *
 * No thin pack is asked for: every delta's base is in the pack itself, so a pack can be checked
 * and indexed on its own. Failures of the exchange are `fetch` DuckErrors naming the URL (an HTTP
 * status is a plain error with `data.statusCode`, worded by the caller as the ref request's are).
 */
export interface PackWant {
  readonly want: string;
  /** Commits the clone holds with their whole history. */
  readonly haves: readonly string[];
  /** What the server's advertisement offered. */
  readonly capabilities: ReadonlySet<string>;
  /** `agent=` capability value, e.g. duck/0.1.0. */
  readonly agent: string;
}

const WHAT = 'the upload-pack answer';
const RESULT_TYPE = 'application/x-git-upload-pack-result';

/** The capabilities the want line asks for, of those the server offered; a server without side-band-64k is refused. */
export function askedCapabilities(offered: ReadonlySet<string>, agent: string, url: string): string[] {
  // Without side-band the pack follows the ACK/NAK lines unframed and a server's error cannot be
  // told from pack bytes; git's own server and the hosted ones offer side-band-64k.
  if (!offered.has('side-band-64k')) {
    throw new DuckError('fetch', `${url}: the git server does not offer side-band-64k, which the node's fetch needs (git http-backend offers it)`, { url }, 'stalled');
  }
  // Without ofs-delta the server sends ref-deltas instead, which the indexer reads as well.
  return ['side-band-64k', ...(offered.has('ofs-delta') ? ['ofs-delta'] : []), `agent=${agent}`];
}

/** The request body: the want with its capabilities, a flush, the haves, `done`. */
export function uploadPackRequest(pack: PackWant, url: string): Buffer {
  const lines = [pktLine(`want ${pack.want} ${askedCapabilities(pack.capabilities, pack.agent, url).join(' ')}\n`), FLUSH_PKT];
  for (const have of pack.haves) lines.push(pktLine(`have ${have}\n`));
  lines.push(pktLine('done\n'));
  return Buffer.concat(lines);
}

/** Downloads the pack that brings the clone from its haves to the want; the pack is returned whole, unchecked. */
export async function fetchPack(http: HttpClient, url: string, headers: Readonly<Record<string, string>>, pack: PackWant): Promise<Buffer> {
  const { bare, auth } = splitCredentials(url);
  const body = uploadPackRequest(pack, url);
  const res = await http.request({
    method: 'POST',
    url: `${bare}/git-upload-pack`,
    headers: {
      ...headers,
      ...(auth ? { Authorization: auth } : {}),
      'Content-Type': 'application/x-git-upload-pack-request',
      Accept: RESULT_TYPE,
    },
    body,
  });
  if (res.statusCode !== 200) {
    res.discard();
    throw httpError(res);
  }
  const type = String(res.headers['content-type'] ?? '');
  if (type.split(';')[0]!.trim() !== RESULT_TYPE) {
    res.discard();
    throw unreadable(url, `its answer is ${type ? `"${type}"` : 'untyped'}, not ${RESULT_TYPE}`);
  }
  return readPackAnswer(res.body, url);
}

/** The pack carried in an upload-pack answer (ACK/NAK lines, then side-band packets until a flush). */
export async function readPackAnswer(body: AsyncIterable<Uint8Array>, url: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let ended = false;
  try {
    for await (const line of streamedPktLines(body, WHAT)) {
      if (ended) throw unreadable(url, 'it goes on after its closing flush');
      if (line === null) {
        ended = parts.length > 0;
        continue;
      }
      const band = line[0];
      if (band === 1) parts.push(line.subarray(1));
      else if (band === 2) continue;
      else if (band === 3) throw new DuckError('fetch', `${url}: the git server stopped the fetch: ${serverText(line.subarray(1))}`, { url });
      else if (parts.length === 0 && /^(ACK [0-9a-f]{40}|NAK)\b/.test(line.toString('latin1'))) continue;
      else if (line.subarray(0, 4).toString('latin1') === 'ERR ') throw new DuckError('fetch', `${url}: the git server refused the fetch: ${serverText(line.subarray(4))}`, { url });
      else throw unreadable(url, `a line it holds is neither an acknowledgement nor a side-band packet: ${JSON.stringify(line.subarray(0, 64).toString('utf8'))}`);
    }
  } catch (err) {
    // A network error (it has a code) is worded by the caller like any other; a framing error is the answer's.
    if (err instanceof DuckError || (err as { code?: unknown }).code !== undefined) throw err;
    throw unreadable(url, (err as Error).message);
  }
  if (!ended) throw unreadable(url, parts.length === 0 ? 'it holds no pack' : 'it ends before the pack does (no closing flush)');
  return Buffer.concat(parts);
}

function unreadable(url: string, why: string): DuckError {
  return new DuckError('fetch', `${url}: the git server's answer to the fetch is unreadable: ${why}`, { url });
}

/** A server's message, one line, without control characters, at most 300 characters. */
function serverText(bytes: Buffer): string {
  // eslint-disable-next-line no-control-regex
  return bytes.toString('utf8').replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 300);
}
