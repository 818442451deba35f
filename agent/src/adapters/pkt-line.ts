/**
 * git's packet lines (gitprotocol-common): a 4-digit hex length that counts itself, then the data;
 * `0000` is a flush packet. Both answers of smart HTTP are made of them: the ref advertisement
 * and the upload-pack answer that carries the pack. Malformed framing throws a plain error naming
 * `what` was being read, which the caller words as its own failure.
 */

/** One packet line of `text`. */
export function pktLine(text: string): Buffer {
  const data = Buffer.from(text, 'utf8');
  const header = Buffer.from((data.length + 4).toString(16).padStart(4, '0'), 'latin1');
  return Buffer.concat([header, data]);
}

export const FLUSH_PKT = Buffer.from('0000', 'latin1');

/** The length a packet's header gives, or a thrown error naming where it stood. */
function packetLength(body: Uint8Array, at: number, what: string, base = 0): number {
  const header = Buffer.from(body.buffer, body.byteOffset + at, 4).toString('latin1');
  if (!/^[0-9a-f]{4}$/.test(header)) throw new Error(`a malformed packet length ${JSON.stringify(header)} at byte ${base + at} of ${what}`);
  const length = parseInt(header, 16);
  // 0001–0003 are protocol v2's delimiters; a v1 answer has none.
  if (length !== 0 && length < 4) throw new Error(`a packet of ${length} bytes at byte ${base + at} of ${what}`);
  return length;
}

/** The packet lines of a whole body, as text; a flush packet is null. */
export function pktLines(body: Buffer, what: string): (string | null)[] {
  const lines: (string | null)[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 4) throw new Error(`a packet header at byte ${at} runs past ${what}'s end`);
    const length = packetLength(body, at, what);
    if (length === 0) {
      lines.push(null);
      at += 4;
      continue;
    }
    if (at + length > body.length) throw new Error(`a packet of ${length} bytes at byte ${at} runs past ${what}'s end`);
    lines.push(body.subarray(at + 4, at + length).toString('utf8'));
    at += length;
  }
  return lines;
}

/**
 * The packet lines of a streamed body as they arrive, each a view of the received bytes (no copy
 * but where a packet spans two chunks); a flush packet is null. A body that ends inside a packet
 * throws.
 */
export async function* streamedPktLines(body: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Buffer | null> {
  let pending: Buffer = Buffer.alloc(0);
  let received = 0;
  for await (const chunk of body) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    pending = pending.length > 0 ? Buffer.concat([pending, bytes]) : bytes;
    received += bytes.length;
    const base = received - pending.length;
    let at = 0;
    while (pending.length - at >= 4) {
      const length = packetLength(pending, at, what, base);
      if (length === 0) {
        at += 4;
        yield null;
        continue;
      }
      if (pending.length - at < length) break;
      yield pending.subarray(at + 4, at + length);
      at += length;
    }
    pending = pending.subarray(at);
  }
  if (pending.length > 0) throw new Error(`${what} ends inside a packet (${pending.length} bytes of it arrived)`);
}
