import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { DuckError } from '../../../schemas/errors.js';
import type { RawObject } from './git-object-store.js';
import { applyDelta, DELTA_BASE_CACHE_BYTES, deltaResultSize, entryHeader, inflateEntryWithin, MAX_DELTA_CHAIN, malformedPack, objectId, OFS_DELTA, oversized, REF_DELTA, Scratch, streamedOid, typeName } from './git-pack.js';

/**
 * A downloaded pack checked and indexed in one pass, with Node's zlib and sha1: the .idx git and
 * isomorphic-git read. isomorphic-git's own indexer inflates every object with pako and hashes each
 * through an async WebCrypto call; for a channel of a few thousand commits that was most of the
 * first accept.
 *
 * Checks, before anything is kept (DESIGN §3, a hostile server): every object is within `maxBytes`
 * by its declared size before it is inflated, and is inflated with that size as its ceiling; an
 * object a delta makes is within it by the delta's own header; the pack's checksum matches its
 * bytes. Throws `too-large` naming the object, `fetch` (transient) for a malformed pack.
 *
 * Memory: what is inflated or made is garbage at once unless a later delta needs it. Whole objects
 * are hashed and dropped; a delta's result is made in one reused buffer unless another delta is
 * based on it (counted in the first pass); an object is kept only while deltas based on it remain,
 * within a bound in bytes (past it, a base is made again when needed). Objects held for a whole
 * pass would outlive V8's young generation and stay, as garbage, until a full collection.
 */
export async function indexPack(pack: Uint8Array, opts: IndexOptions): Promise<Uint8Array> {
  const { maxBytes, source } = opts;
  if (pack.length < 32 || Buffer.from(pack.subarray(0, 4)).toString('latin1') !== 'PACK') throw malformedPack(source, 'no PACK header');
  const body = pack.subarray(0, pack.length - 20);
  const trailer = Buffer.from(pack.subarray(pack.length - 20));
  const count = new DataView(pack.buffer, pack.byteOffset, pack.byteLength).getUint32(8);

  interface Entry {
    readonly offset: number;
    readonly kind: number;
    readonly dataStart: number;
    readonly size: number;
    crc: number;
    oid: string | null;
    readonly baseOffset?: number;
    readonly baseOid?: string;
    /** The entry this delta's base was counted on in `dependants`, released once it is made. */
    countedBase?: number;
  }
  const entries: Entry[] = [];
  const byOffset = new Map<number, Entry>();
  const offsetOf = new Map<string, number>();
  /** Per entry offset, the deltas based on it not yet made. */
  const dependants = new Map<number, number>();
  const count1 = (offset: number): void => void dependants.set(offset, (dependants.get(offset) ?? 0) + 1);

  // Pass 1: every entry's header, checks, and the id of every whole object.
  let pos = 12;
  for (let i = 0; i < count; i++) {
    const header = entryHeader(pack, pos);
    const type = typeName(header.kind);
    if (type && header.size > maxBytes) {
      const oid = await streamedOid(type, header.size, pack.subarray(header.dataStart), source);
      throw oversized(source, `${type} ${oid}`, header.size, maxBytes);
    }
    const ceiling = type ? header.size : maxBytes + Math.ceil(maxBytes / 127) + 64;
    if (header.size > ceiling) throw oversized(source, 'a delta', header.size, maxBytes);
    const { data, consumed } = inflateEntryWithin(pack.subarray(header.dataStart, body.length), header.size, pos, source);
    const entry: Entry = {
      offset: pos,
      kind: header.kind,
      dataStart: header.dataStart,
      size: header.size,
      crc: 0,
      oid: null,
      ...(header.kind === OFS_DELTA ? { baseOffset: header.baseOffset! } : {}),
      ...(header.kind === REF_DELTA ? { baseOid: Buffer.from(pack.subarray(header.dataStart - 20, header.dataStart)).toString('hex') } : {}),
    };
    if (type) {
      entry.oid = objectId(type, data);
      offsetOf.set(entry.oid, pos);
    } else {
      const made = deltaResultSize(data);
      if (made === null) throw malformedPack(source, `the delta at byte ${pos} has no sizes`);
      if (made > maxBytes) throw oversized(source, 'an object made by a delta', made, maxBytes);
    }
    const end = header.dataStart + consumed;
    entry.crc = crc32(pack.subarray(pos, end));
    entries.push(entry);
    byOffset.set(pos, entry);
    if (entry.baseOffset !== undefined) count1((entry.countedBase = entry.baseOffset));
    pos = end;
  }
  // A ref-delta on a whole object of the pack is counted too; one on another delta's result (its id
  // unknown yet) is not, and that base is made again when the delta comes.
  for (const entry of entries) {
    const base = entry.baseOid === undefined ? undefined : offsetOf.get(entry.baseOid);
    if (base !== undefined) count1((entry.countedBase = base));
  }
  if (pos !== body.length) throw malformedPack(source, `${body.length - pos} bytes follow its last entry`);
  if (!createHash('sha1').update(body).digest().equals(trailer)) throw malformedPack(source, 'its checksum does not match its bytes');

  // Pass 2: deltas, in pack order (a base at an earlier offset, mostly, so mostly still kept).
  const kept = new Map<number, RawObject>();
  let keptBytes = 0;
  const scratch = new Scratch();
  const keep = (offset: number, object: RawObject): void => {
    if (!dependants.get(offset) || keptBytes + object.content.length > DELTA_BASE_CACHE_BYTES) return;
    kept.set(offset, object);
    keptBytes += object.content.length;
    opts.onKept?.(keptBytes);
  };
  const release = (offset: number): void => {
    const left = dependants.get(offset)! - 1;
    if (left > 0) return void dependants.set(offset, left);
    dependants.delete(offset);
    const object = kept.get(offset);
    if (object === undefined) return;
    kept.delete(offset);
    keptBytes -= object.content.length;
  };
  /** The entry's object; `into` only for one hashed and dropped at once, no later delta based on it. */
  const objectAt = (entry: Entry, depth: number, into?: Scratch): RawObject => {
    const hit = kept.get(entry.offset);
    if (hit) return hit;
    if (depth > MAX_DELTA_CHAIN) throw malformedPack(source, `the delta chain at byte ${entry.offset} does not end`);
    const { data } = inflateEntryWithin(pack.subarray(entry.dataStart, body.length), entry.size, entry.offset, source);
    const type = typeName(entry.kind);
    let object: RawObject;
    if (type) object = { type, content: data };
    else object = deltaOn(baseOf(entry, depth), data, entry.offset, into);
    if (!into) keep(entry.offset, object);
    return object;
  };
  const baseOf = (entry: Entry, depth: number): RawObject => {
    if (entry.baseOffset !== undefined) {
      const base = byOffset.get(entry.baseOffset);
      if (!base) throw malformedPack(source, `the delta at byte ${entry.offset} names no entry as its base`);
      return objectAt(base, depth + 1);
    }
    const inPack = offsetOf.get(entry.baseOid!);
    if (inPack !== undefined) return objectAt(byOffset.get(inPack)!, depth + 1);
    const external = opts.externalBase?.(entry.baseOid!);
    if (!external) throw malformedPack(source, `the delta at byte ${entry.offset} needs ${entry.baseOid}, which is neither in the pack nor in the clone`);
    return external;
  };
  const deltaOn = (base: RawObject, delta: Uint8Array, offset: number, into?: Scratch): RawObject => {
    try {
      return { type: base.type, content: applyDelta(base.content, delta, `at byte ${offset}`, into) };
    } catch (err) {
      throw malformedPack(source, (err as Error).message);
    }
  };
  // A ref-delta may name a base that itself comes later: resolve until nothing moves.
  let pending = entries.filter((e) => e.oid === null);
  while (pending.length > 0) {
    const next: Entry[] = [];
    for (const entry of pending) {
      if (entry.baseOid !== undefined && !offsetOf.has(entry.baseOid) && !opts.externalBase?.(entry.baseOid)) {
        next.push(entry);
        continue;
      }
      const object = objectAt(entry, 0, dependants.get(entry.offset) ? undefined : scratch);
      entry.oid = objectId(object.type, object.content);
      offsetOf.set(entry.oid, entry.offset);
      if (entry.countedBase !== undefined) release(entry.countedBase);
    }
    if (next.length === pending.length) {
      throw malformedPack(source, `${next.length} deltas name bases that are neither in the pack nor in the clone`);
    }
    pending = next;
  }
  return idxOf(entries as Array<Entry & { oid: string }>, trailer);
}

export interface IndexOptions {
  /** Every object, whole or made by a delta, is refused over this many bytes. */
  readonly maxBytes: number;
  /** The channel's URL, for errors. */
  readonly source: string;
  /** A thin pack's bases, from the clone. */
  readonly externalBase?: (oid: string) => RawObject | null;
  /** Told the bytes of objects kept for later deltas each time it grows: a test reads the peak. */
  readonly onKept?: (bytes: number) => void;
}

/** Whether a version-2 pack index (as `indexPack` writes it) lists `oid`: a binary search of its sorted ids. */
export function indexHolds(idx: Uint8Array, oid: string): boolean {
  const view = Buffer.from(idx.buffer, idx.byteOffset, idx.byteLength);
  const wanted = Buffer.from(oid, 'hex');
  const first = wanted[0]!;
  let low = first === 0 ? 0 : view.readUInt32BE(8 + (first - 1) * 4);
  let high = view.readUInt32BE(8 + first * 4);
  const ids = 8 + 256 * 4;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const order = view.compare(wanted, 0, 20, ids + mid * 20, ids + mid * 20 + 20);
    if (order === 0) return true;
    if (order > 0) high = mid;
    else low = mid + 1;
  }
  return false;
}

/** Pack index version 2: fan-out, sorted ids, CRC-32s, offsets (64-bit ones in a table of their own), checksums. */
function idxOf(entries: ReadonlyArray<{ oid: string; crc: number; offset: number }>, packChecksum: Buffer): Uint8Array {
  const sorted = [...entries].sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.oid === sorted[i - 1]!.oid) throw new DuckError('fetch', `the downloaded pack holds object ${sorted[i]!.oid} twice`, {}, 'transient');
  }
  const n = sorted.length;
  const large = sorted.filter((e) => e.offset >= 0x80000000);
  const out = Buffer.alloc(8 + 256 * 4 + n * 28 + large.length * 8 + 40);
  out.writeUInt32BE(0xff744f63, 0);
  out.writeUInt32BE(2, 4);
  const fanout = new Uint32Array(256);
  for (const e of sorted) fanout[parseInt(e.oid.slice(0, 2), 16)]! += 1;
  let running = 0;
  for (let i = 0; i < 256; i++) out.writeUInt32BE((running += fanout[i]!), 8 + i * 4);
  const ids = 8 + 256 * 4;
  const crcs = ids + n * 20;
  const offsets = crcs + n * 4;
  const larges = offsets + n * 4;
  let nextLarge = 0;
  sorted.forEach((e, i) => {
    out.write(e.oid, ids + i * 20, 'hex');
    out.writeUInt32BE(e.crc >>> 0, crcs + i * 4);
    if (e.offset < 0x80000000) {
      out.writeUInt32BE(e.offset, offsets + i * 4);
    } else {
      out.writeUInt32BE((0x80000000 | nextLarge) >>> 0, offsets + i * 4);
      out.writeBigUInt64BE(BigInt(e.offset), larges + nextLarge++ * 8);
    }
  });
  const tail = larges + large.length * 8;
  packChecksum.copy(out, tail);
  createHash('sha1').update(out.subarray(0, tail + 20)).digest().copy(out, tail + 20);
  return out;
}
