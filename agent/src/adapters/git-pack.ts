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
/** Deeper than any chain git makes (its default depth is 50): a chain this long is a broken or hostile pack. */
export const MAX_DELTA_CHAIN = 4096;
// A channel's trees are small and deltified against each other in long chains: a few MiB keep a
// whole chain's bases, for a walk of the clone as for the indexing of a download.
export const DELTA_BASE_CACHE_BYTES = 4 * 1024 * 1024;

/** A git object's id: the sha1 of its header and content. */
export function objectId(type: ObjectType, content: Uint8Array): string {
  return objectDigest(type, content).toString('hex');
}

/** A git object's id as 20 bytes. */
export function objectDigest(type: ObjectType, content: Uint8Array): Buffer {
  return createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest();
}

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

/** The two sizes a delta starts with (its base's, then the object it makes) and where its instructions begin. */
function deltaSizes(delta: Uint8Array): { base: number; result: number; instructions: number } | null {
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
  const base = varint();
  const result = base === null ? null : varint();
  return base === null || result === null ? null : { base, result, instructions: cursor };
}

/** The size of the object a delta makes: the second number of the delta's data (after the base's). */
export function deltaResultSize(delta: Uint8Array): number | null {
  return deltaSizes(delta)?.result ?? null;
}

/**
 * The object a delta makes from its base (git's delta format: the base's size, the result's size,
 * then copy-from-base and insert instructions). Every instruction is checked against both buffers.
 */
export function applyDelta(base: Uint8Array, delta: Uint8Array, oid: string, scratch?: Scratch): Uint8Array {
  const bad = (why: string): never => {
    throw new DuckError('internal', `object ${oid} cannot be read from the clone: its delta ${why}`, { oid });
  };
  const sizes = deltaSizes(delta) ?? bad('ends in its sizes');
  if (sizes.base !== base.length) bad(`expects a base of another size than ${base.length} bytes`);
  const out = scratch ? scratch.take(sizes.result) : Buffer.allocUnsafe(sizes.result);
  let pos = sizes.instructions;
  let at = 0;
  while (pos < delta.length) {
    const op = delta[pos++]!;
    if (op & 0x80) {
      let from = 0;
      let size = 0;
      for (let bit = 0; bit < 4; bit++) if (op & (1 << bit)) from |= delta[pos++]! << (bit * 8);
      for (let bit = 0; bit < 3; bit++) if (op & (1 << (4 + bit))) size |= delta[pos++]! << (bit * 8);
      from >>>= 0;
      if (size === 0) size = 0x10000;
      if (from + size > base.length || at + size > out.length || pos > delta.length) bad('copies past its buffers');
      out.set(base.subarray(from, from + size), at);
      at += size;
    } else if (op !== 0) {
      if (pos + op > delta.length || at + op > out.length) bad('inserts past its buffers');
      out.set(delta.subarray(pos, pos + op), at);
      pos += op;
      at += op;
    } else {
      bad('holds the reserved instruction 0');
    }
  }
  if (at !== out.length) bad(`makes ${at} bytes, not its declared ${out.length}`);
  return out;
}

/**
 * One buffer reused for objects that are hashed and dropped at once: a pack's thousands of delta
 * results would otherwise each be a fresh allocation, garbage the moment it is hashed.
 * What `take` returns is valid until the next `take`.
 */
export class Scratch {
  private buffer = Buffer.allocUnsafe(0);

  take(size: number): Buffer {
    if (this.buffer.length < size) this.buffer = Buffer.allocUnsafe(size);
    return this.buffer.subarray(0, size);
  }
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
 * zlib's output buffer for an object of `size` bytes: its own size (zlib's default is 16 KiB, a
 * fresh allocation for every one of a pack's thousands of small objects), within zlib's bounds.
 */
export function chunkFor(size: number): number {
  return Math.min(Math.max(size + 1, 64), 1024 * 1024);
}

/**
 * One pack entry's data inflated with its declared size as the ceiling (a header that lies costs
 * no more than what it declared), and how many compressed bytes it took: where the next entry starts.
 */
export function inflateEntryWithin(compressed: Uint8Array, size: number, pos: number, source: string): { data: Buffer; consumed: number } {
  let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    inflated = inflateSync(compressed, { info: true, maxOutputLength: Math.max(1, size), chunkSize: chunkFor(size) }) as unknown as typeof inflated;
  } catch (err) {
    throw malformedPack(source, `the entry at byte ${pos} does not inflate to its declared ${size} bytes (${(err as Error).message})`);
  }
  if (inflated.buffer.length !== size) throw malformedPack(source, `the entry at byte ${pos} inflates to ${inflated.buffer.length} bytes, not its declared ${size}`);
  return { data: inflated.buffer, consumed: inflated.engine.bytesWritten };
}

/** A whole object's id, hashed as it inflates: naming an oversized object costs no memory. */
export async function streamedOid(type: ObjectType, size: number, compressed: Uint8Array, source: string): Promise<string> {
  const hash = createHash('sha1').update(`${type} ${size}\0`);
  const inflate = createInflate();
  inflate.on('data', (chunk: Buffer) => hash.update(chunk));
  await new Promise<void>((resolve, reject) => {
    inflate.on('end', resolve);
    inflate.on('error', (err) => reject(malformedPack(source, err.message)));
    inflate.end(compressed);
  });
  return hash.digest('hex');
}

function byteAt(pack: Uint8Array, pos: number): number {
  const byte = pack[pos];
  if (byte === undefined) throw new DuckError('fetch', `a pack entry header runs past the end of its data (byte ${pos})`, {}, 'transient');
  return byte;
}

export function oversized(source: string, what: string, size: number, max: number): DuckError {
  return new DuckError(
    'too-large',
    `${source}: the channel download holds ${what} of ${size} bytes, over the ${max}-byte limit for a channel file (limits.maxFileBytes): refused before it was inflated`,
    { field: '/limits/maxFileBytes', size, limit: max },
  );
}

/** A download that does not parse is the transfer's fault until shown otherwise: fetched again next poll. */
export function malformedPack(source: string, why: string): DuckError {
  return new DuckError('fetch', `${source}: the downloaded pack is malformed: ${why}`, { url: source }, 'transient');
}
