import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { DuckError } from '../../../schemas/errors.js';
import type { RawObject } from './git-object-store.js';
import { applyDelta, DELTA_BASE_CACHE_BYTES, deltaResultSize, entryHeader, inflateEntryWithin, MAX_DELTA_CHAIN, malformedPack, objectDigest, OFS_DELTA, oversized, REF_DELTA, Scratch, streamedOid, typeName } from './git-pack.js';

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

  // An entry takes at least 9 bytes (a header byte and the smallest zlib stream).
  if (count > (body.length - 12) / 9) throw malformedPack(source, `it declares ${count} entries, more than its ${body.length} bytes can hold`);
  const t = entryTable(count);
  /** Ids to entries, for ref-deltas only (a pack with none needs no map of 8,000 strings). */
  let byId: Map<string, number> | null = null;
  const refBase = (i: number): string => Buffer.from(pack.subarray(t.dataStart[i]! - 20, t.dataStart[i])).toString('hex');
  const idOf = (i: number): string => t.ids.toString('hex', i * 20, i * 20 + 20);

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
    t.offset[i] = pos;
    t.kind[i] = header.kind;
    t.dataStart[i] = header.dataStart;
    t.size[i] = header.size;
    if (type) {
      objectDigest(type, data).copy(t.ids, i * 20);
      t.made[i] = 1;
    } else {
      const made = deltaResultSize(data);
      if (made === null) throw malformedPack(source, `the delta at byte ${pos} has no sizes`);
      if (made > maxBytes) throw oversized(source, 'an object made by a delta', made, maxBytes);
      if (header.kind === OFS_DELTA) t.base[i] = entryAt(t.offset, i, header.baseOffset!);
      if (header.kind === REF_DELTA) byId ??= new Map();
      if (t.base[i]! >= 0) t.dependants[t.base[i]!]! += 1;
    }
    const end = header.dataStart + consumed;
    t.crc[i] = crc32(pack.subarray(pos, end));
    pos = end;
  }
  if (pos !== body.length) throw malformedPack(source, `${body.length - pos} bytes follow its last entry`);
  if (!createHash('sha1').update(body).digest().equals(trailer)) throw malformedPack(source, 'its checksum does not match its bytes');
  // A ref-delta on a whole object of the pack is counted too; one on another delta's result (its id
  // unknown yet) is not, and that base is made again when the delta comes.
  if (byId) {
    for (let i = 0; i < count; i++) if (t.made[i]) byId.set(idOf(i), i);
    for (let i = 0; i < count; i++) {
      const base = t.kind[i] === REF_DELTA ? byId.get(refBase(i)) : undefined;
      if (base === undefined) continue;
      t.base[i] = base;
      t.dependants[base]! += 1;
    }
  }

  // Pass 2: deltas, in pack order (a base at an earlier offset, mostly, so mostly still kept).
  const kept = new Map<number, RawObject>();
  let keptBytes = 0;
  const scratch = new Scratch();
  const keep = (i: number, object: RawObject): void => {
    if (!t.dependants[i] || keptBytes + object.content.length > DELTA_BASE_CACHE_BYTES) return;
    kept.set(i, object);
    keptBytes += object.content.length;
    opts.onKept?.(keptBytes);
  };
  const release = (i: number): void => {
    if ((t.dependants[i]! -= 1) > 0) return;
    const object = kept.get(i);
    if (object === undefined) return;
    kept.delete(i);
    keptBytes -= object.content.length;
  };
  /** Entry i's object; `into` only for one hashed and dropped at once, no later delta based on it. */
  const objectAt = (i: number, depth: number, into?: Scratch): RawObject => {
    const hit = kept.get(i);
    if (hit) return hit;
    const offset = t.offset[i]!;
    if (depth > MAX_DELTA_CHAIN) throw malformedPack(source, `the delta chain at byte ${offset} does not end`);
    const { data } = inflateEntryWithin(pack.subarray(t.dataStart[i], body.length), t.size[i]!, offset, source);
    const type = typeName(t.kind[i]!);
    let object: RawObject;
    if (type) object = { type, content: data };
    else object = deltaOn(baseOf(i, depth), data, offset, into);
    if (!into) keep(i, object);
    return object;
  };
  const baseOf = (i: number, depth: number): RawObject => {
    const offset = t.offset[i]!;
    if (t.kind[i] === OFS_DELTA) {
      if (t.base[i]! < 0) throw malformedPack(source, `the delta at byte ${offset} names no entry as its base`);
      return objectAt(t.base[i]!, depth + 1);
    }
    if (t.kind[i] !== REF_DELTA) throw malformedPack(source, `the entry at byte ${offset} has the unknown type ${t.kind[i]}`);
    const baseOid = refBase(i);
    const inPack = byId!.get(baseOid);
    if (inPack !== undefined) return objectAt(inPack, depth + 1);
    const external = opts.externalBase?.(baseOid);
    if (!external) throw malformedPack(source, `the delta at byte ${offset} needs ${baseOid}, which is neither in the pack nor in the clone`);
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
  let pending: number[] = [];
  for (let i = 0; i < count; i++) if (!t.made[i]) pending.push(i);
  while (pending.length > 0) {
    const next: number[] = [];
    for (const i of pending) {
      if (t.kind[i] === REF_DELTA) {
        const baseOid = refBase(i);
        if (!byId!.has(baseOid) && !opts.externalBase?.(baseOid)) {
          next.push(i);
          continue;
        }
      }
      const object = objectAt(i, 0, t.dependants[i] ? undefined : scratch);
      objectDigest(object.type, object.content).copy(t.ids, i * 20);
      t.made[i] = 1;
      byId?.set(idOf(i), i);
      if (t.base[i]! >= 0) release(t.base[i]!);
    }
    if (next.length === pending.length) {
      throw malformedPack(source, `${next.length} deltas name bases that are neither in the pack nor in the clone`);
    }
    pending = next;
  }
  return idxOf(t, trailer);
}

/**
 * A pack's entries as columns, index i for the i-th entry in pack order: thousands of entry objects
 * and id strings would survive every young-generation collection of the indexing, and V8 grows
 * that generation (resident memory) to hold what survives.
 */
interface EntryTable {
  readonly offset: Float64Array;
  readonly dataStart: Float64Array;
  readonly size: Float64Array;
  readonly kind: Uint8Array;
  readonly crc: Uint32Array;
  /** The entry a delta is based on, when known from the first pass (counted in `dependants`); -1 if not. */
  readonly base: Int32Array;
  /** Per entry, the deltas based on it not yet made. */
  readonly dependants: Uint32Array;
  /** Whether the entry's id is known (in `ids`). */
  readonly made: Uint8Array;
  /** 20 bytes per entry. */
  readonly ids: Buffer;
}

function entryTable(count: number): EntryTable {
  return {
    offset: new Float64Array(count),
    dataStart: new Float64Array(count),
    size: new Float64Array(count),
    kind: new Uint8Array(count),
    crc: new Uint32Array(count),
    base: new Int32Array(count).fill(-1),
    dependants: new Uint32Array(count),
    made: new Uint8Array(count),
    ids: Buffer.alloc(count * 20),
  };
}

/** The entry among the first `before` that starts at `offset` (offsets grow in pack order), or -1. */
function entryAt(offsets: Float64Array, before: number, offset: number): number {
  let low = 0;
  let high = before;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (offsets[mid]! < offset) low = mid + 1;
    else high = mid;
  }
  return low < before && offsets[low] === offset ? low : -1;
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
function idxOf(t: EntryTable, packChecksum: Buffer): Uint8Array {
  const { ids: oids } = t;
  const n = t.offset.length;
  const sorted = new Uint32Array(n);
  for (let i = 0; i < n; i++) sorted[i] = i;
  sorted.sort((a, b) => oids.compare(oids, b * 20, b * 20 + 20, a * 20, a * 20 + 20));
  for (let k = 1; k < n; k++) {
    const [a, b] = [sorted[k - 1]! * 20, sorted[k]! * 20];
    if (oids.compare(oids, a, a + 20, b, b + 20) === 0) throw new DuckError('fetch', `the downloaded pack holds object ${oids.toString('hex', b, b + 20)} twice`, {}, 'transient');
  }
  let largeCount = 0;
  for (let i = 0; i < n; i++) if (t.offset[i]! >= 0x80000000) largeCount++;
  const out = Buffer.alloc(8 + 256 * 4 + n * 28 + largeCount * 8 + 40);
  out.writeUInt32BE(0xff744f63, 0);
  out.writeUInt32BE(2, 4);
  const fanout = new Uint32Array(256);
  for (let i = 0; i < n; i++) fanout[oids[i * 20]!]! += 1;
  let running = 0;
  for (let i = 0; i < 256; i++) out.writeUInt32BE((running += fanout[i]!), 8 + i * 4);
  const ids = 8 + 256 * 4;
  const crcs = ids + n * 20;
  const offsets = crcs + n * 4;
  const larges = offsets + n * 4;
  let nextLarge = 0;
  sorted.forEach((e, k) => {
    oids.copy(out, ids + k * 20, e * 20, e * 20 + 20);
    out.writeUInt32BE(t.crc[e]! >>> 0, crcs + k * 4);
    const offset = t.offset[e]!;
    if (offset < 0x80000000) {
      out.writeUInt32BE(offset, offsets + k * 4);
    } else {
      out.writeUInt32BE((0x80000000 | nextLarge) >>> 0, offsets + k * 4);
      out.writeBigUInt64BE(BigInt(offset), larges + nextLarge++ * 8);
    }
  });
  const tail = larges + largeCount * 8;
  packChecksum.copy(out, tail);
  createHash('sha1').update(out.subarray(0, tail + 20)).digest().copy(out, tail + 20);
  return out;
}
