import type { HttpClient } from 'isomorphic-git';

/**
 * The refs a smart-HTTP git server advertises (protocol v1: one GET of `info/refs`), read without
 * isomorphic-git. The poll that finds nothing new is the agent's most frequent request, and loading
 * isomorphic-git for it costs a fifth of a second of CPU and ~19 MiB that an idle node keeps.
 * Failures are plain errors shaped like isomorphic-git's (`data.statusCode` for an HTTP status), so
 * the caller words them the same way whichever side asked.
 */
export async function advertisedRefs(http: HttpClient, url: string, headers: Readonly<Record<string, string>>): Promise<Map<string, string>> {
  const { bare, auth } = splitCredentials(url);
  const res = await http.request({
    method: 'GET',
    url: `${bare}/info/refs?service=git-upload-pack`,
    headers: auth ? { ...headers, Authorization: auth } : { ...headers },
  });
  const body = await collect(res.body);
  if (res.statusCode !== 200) {
    throw Object.assign(new Error(`HTTP Error: ${res.statusCode} ${res.statusMessage}`), { code: 'HttpError', data: { statusCode: res.statusCode } });
  }
  return parseAdvertisement(body);
}

const SERVICE_LINE = '# service=git-upload-pack';

/** Parses a v1 upload-pack advertisement: `# service=` line, flush, then `<oid> <ref>` lines (capabilities after a NUL on the first). */
export function parseAdvertisement(body: Buffer): Map<string, string> {
  const refs = new Map<string, string>();
  // The first packet names the service: anything else (a dumb server, a login page) is not git's answer.
  if (body.subarray(4, 4 + SERVICE_LINE.length).toString('latin1') !== SERVICE_LINE) {
    throw new Error(`not a smart-HTTP ref advertisement (it starts ${JSON.stringify(body.subarray(0, 64).toString('utf8'))})`);
  }
  const lines = pktLines(body).slice(1);
  for (const line of lines) {
    if (line === null) continue;
    const text = line.split('\0')[0]!.replace(/\n$/, '');
    const match = /^([0-9a-f]{40}) (\S+)$/.exec(text);
    if (!match) throw new Error(`a malformed line in the ref advertisement: ${JSON.stringify(text.slice(0, 100))}`);
    // A repository with no refs advertises only its capabilities under this placeholder.
    if (match[2] === 'capabilities^{}') continue;
    refs.set(match[2]!, match[1]!);
  }
  return refs;
}

/** The packet lines of a body; a flush packet (`0000`) is null. */
function pktLines(body: Buffer): (string | null)[] {
  const lines: (string | null)[] = [];
  let at = 0;
  while (at < body.length) {
    const header = body.subarray(at, at + 4).toString('latin1');
    if (!/^[0-9a-f]{4}$/.test(header)) throw new Error(`a malformed packet length ${JSON.stringify(header)} at byte ${at} of the ref advertisement`);
    const length = parseInt(header, 16);
    if (length === 0) {
      lines.push(null);
      at += 4;
      continue;
    }
    if (length < 4 || at + length > body.length) throw new Error(`a packet of ${length} bytes at byte ${at} runs past the ref advertisement's end`);
    lines.push(body.subarray(at + 4, at + length).toString('utf8'));
    at += length;
  }
  return lines;
}

/** A URL's user and password become a Basic Authorization header, as git and isomorphic-git do. */
function splitCredentials(url: string): { bare: string; auth: string | null } {
  const parsed = new URL(url);
  if (!parsed.username && !parsed.password) return { bare: url, auth: null };
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
  parsed.username = '';
  parsed.password = '';
  return { bare: parsed.toString().replace(/\/$/, url.endsWith('/') ? '/' : ''), auth };
}

async function collect(body: AsyncIterableIterator<Uint8Array> | undefined): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  if (body) for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}
