import { createHash } from 'node:crypto';
import { constants, createInflate, inflateSync } from 'node:zlib';
import { DuckError } from '../../../schemas/errors.js';

/**
 * The git pack format, as far as sizes go: every entry of a pack states the size of its object
 * before the compressed data, and a delta states the size of the object it makes in its first
 * bytes. Reading those first lets a hostile channel's object be refused before it is inflated.
 */
export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';

const TYPES: Readonly<Record<number, ObjectType>> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
export const OFS_DELTA = 6;
export const REF_DELTA = 7;

export interface EntryHeader {
  /** 1–4 for a whole object, OFS_DELTA or REF_DELTA for a delta. */
  readonly kind: number;
  /** The inflated size of the entry's data: the object's, or the delta's own. */
  readonly size: number;
  /** Where the zlib stream of the entry starts. */
  readonly dataStart: number;
  /** OFS_DELTA: the base entry's offset in the pack. */
  readonly baseOffset?: number;
}

export function typeName(kind: number): ObjectType | null {
  return TYPES[kind] ?? null;
}

/** The header of the pack entry at `pos`: type, size (a little-endian base-128 number), delta base. */
export function entryHeader(pack: Uint8Array, pos: number): EntryHeader {
  let cursor = pos;
  let byte = byteAt(pack, cursor++);
  const kind = (byte >> 4) & 0b111;
  let size = byte & 0b1111;
  let factor = 16;
  while (byte & 0x80) {
    byte = byteAt(pack, cursor++);
    size += (byte & 0x7f) * factor;
    factor *= 128;
  }
  if (kind === OFS_DELTA) {
    // git's offset encoding: big-endian base-128 with one added at each continuation.
    byte = byteAt(pack, cursor++);
    let back = byte & 0x7f;
    while (byte & 0x80) {
      byte = byteAt(pack, cursor++);
      back = (back + 1) * 128 + (byte & 0x7f);
    }
    return { kind, size, dataStart: cursor, baseOffset: pos - back };
  }
  if (kind === REF_DELTA) return { kind, size, dataStart: cursor + 20 };
  return { kind, size, dataStart: cursor };
}

/** The size of the object a delta makes: the second number of the delta's data (after the base's). */
export function deltaResultSize(delta: Uint8Array): number | null {
  let cursor = 0;
  const varint = (): number | null => {
    let value = 0;
    let factor = 1;
    for (;;) {
      if (cursor >= delta.length) return null;
      const byte = delta[cursor++]!;
      value += (byte & 0x7f) * factor;
      factor *= 128;
      if (!(byte & 0x80)) return value;
    }
  };
  return varint() === null ? null : varint();
}

/** The first bytes of a zlib stream, inflated as far as they go (enough for a delta's sizes). */
export function inflatePrefix(compressed: Uint8Array): Uint8Array {
  try {
    return inflateSync(compressed, { finishFlush: constants.Z_SYNC_FLUSH });
  } catch {
    return new Uint8Array();
  }
}

/**
 * Every object of a downloaded pack is within `maxBytes` by its declared size, checked before
 * the object is inflated; each one within it is inflated with its declared size as the ceiling,
 * so a header that lies costs no more than the cap either. Throws `too-large` naming the object
 * (its id when it is whole: hashed as it streams), `fetch` for a malformed pack.
 */
export async function assertPackWithin(pack: Uint8Array, maxBytes: number, source: string): Promise<void> {
  if (pack.length < 32 || Buffer.from(pack.subarray(0, 4)).toString('latin1') !== 'PACK') throw malformed(source, 'no PACK header');
  const count = new DataView(pack.buffer, pack.byteOffset, pack.byteLength).getUint32(8);
  let pos = 12;
  for (let i = 0; i < count; i++) {
    const header = entryHeader(pack, pos);
    const type = typeName(header.kind);
    if (type && header.size > maxBytes) {
      const oid = await streamedOid(type, header.size, pack.subarray(header.dataStart), source);
      throw oversized(source, `${type} ${oid}`, header.size, maxBytes);
    }
    // A delta's own data is a little longer than what it makes at worst (a copy of every byte).
    const ceiling = type ? header.size : maxBytes + Math.ceil(maxBytes / 127) + 64;
    if (header.size > ceiling) throw oversized(source, 'a delta', header.size, maxBytes);
    let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
    try {
      inflated = inflateSync(pack.subarray(header.dataStart), { info: true, maxOutputLength: Math.max(1, header.size) }) as unknown as typeof inflated;
    } catch (err) {
      throw malformed(source, `the entry at byte ${pos} does not inflate to its declared ${header.size} bytes (${(err as Error).message})`);
    }
    if (inflated.buffer.length !== header.size) throw malformed(source, `the entry at byte ${pos} inflates to ${inflated.buffer.length} bytes, not its declared ${header.size}`);
    if (!type) {
      const made = deltaResultSize(inflated.buffer);
      if (made === null) throw malformed(source, `the delta at byte ${pos} has no sizes`);
      if (made > maxBytes) throw oversized(source, 'an object made by a delta', made, maxBytes);
    }
    pos = header.dataStart + inflated.engine.bytesWritten;
  }
}

/** A whole object's id, hashed as it inflates: naming an oversized object costs no memory. */
async function streamedOid(type: ObjectType, size: number, compressed: Uint8Array, source: string): Promise<string> {
  const hash = createHash('sha1').update(`${type} ${size}\0`);
  const inflate = createInflate();
  inflate.on('data', (chunk: Buffer) => hash.update(chunk));
  await new Promise<void>((resolve, reject) => {
    inflate.on('end', resolve);
    inflate.on('error', (err) => reject(malformed(source, err.message)));
    inflate.end(compressed);
  });
  return hash.digest('hex');
}

function byteAt(pack: Uint8Array, pos: number): number {
  const byte = pack[pos];
  if (byte === undefined) throw new DuckError('fetch', `a pack entry header runs past the end of its data (byte ${pos})`, {}, 'transient');
  return byte;
}

function oversized(source: string, what: string, size: number, max: number): DuckError {
  return new DuckError(
    'too-large',
    `${source}: the channel download holds ${what} of ${size} bytes, over the ${max}-byte limit for a channel file (limits.maxFileBytes): refused before it was inflated`,
    { field: '/limits/maxFileBytes', size, limit: max },
  );
}

/** A download that does not parse is the transfer's fault until shown otherwise: fetched again next poll. */
function malformed(source: string, why: string): DuckError {
  return new DuckError('fetch', `${source}: the downloaded pack is malformed: ${why}`, { url: source }, 'transient');
}
