import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { DuckError } from '../../../schemas/errors.js';
import { BoundedCache } from '../core/bounded-cache.js';
import type { ObjectType } from './git-pack.js';
import { applyDelta, chunkFor, DELTA_BASE_CACHE_BYTES, deltaResultSize, entryHeader, inflatePrefix, MAX_DELTA_CHAIN, objectId, OFS_DELTA, REF_DELTA, typeName } from './git-pack.js';

export interface ObjectSize {
  readonly type: ObjectType;
  readonly size: number;
}

export interface RawObject {
  readonly type: ObjectType;
  readonly content: Uint8Array;
}

/**
 * A repository's objects read by id with Node's zlib, straight from its packs and loose files.
 * isomorphic-git's readObject inflates with pako (JavaScript), resolves every delta chain again
 * for each object and keeps deep chain links in a cache that never shrinks; walking a channel's
 * history reads thousands of deltified trees. Here:
 * - the pack directory is listed once and kept: packs never change once written (the name is their
 *   hash), and a lookup that misses lists it again once, so a pack written since is found;
 *   `invalidate()` after anything removed packs (a reset);
 * - each pack's index is read once; an entry is read from the file by offset (the pack is never
 *   held whole: its next entry's offset, from the index, bounds the read);
 * - resolved objects are kept in a cache bounded by bytes, so a delta chain's bases are inflated
 *   once for a whole walk;
 * - every object read whole is hashed and checked against its id: a broken clone is an `internal`
 *   error (fetched again from nothing by the accept), never content.
 * Sizes come from entry headers without inflating the object (a size cap is checked first).
 */
export interface ObjectStore {
  read(oid: string): RawObject | null;
  sizeOf(oid: string): ObjectSize;
  has(oid: string): boolean;
  /** Forget the pack listing and indexes (after a reset removed the clone). */
  invalidate(): void;
}

export interface ObjectStoreOptions {
  /** Lists the pack directory: a test counts the calls. */
  readonly listDir?: (dir: string) => string[];
  /** Bytes of resolved objects kept for delta chains. */
  readonly cacheBytes?: number;
}

const HEADER_BYTES = 64;
const DELTA_PREFIX_BYTES = 512;

interface Pack {
  readonly path: string;
  readonly idx: Buffer;
  /** Entry offsets in file order and the end of the last entry: an entry's bytes end where the next starts. */
  bounds?: { readonly offsets: Float64Array; readonly end: number };
}

interface Location {
  readonly pack: Pack;
  readonly offset: number;
}

export function openObjectStore(gitdir: string, opts: ObjectStoreOptions = {}): ObjectStore {
  const packDir = join(gitdir, 'objects', 'pack');
  const listDir = opts.listDir ?? ((dir: string) => readdirSync(dir));
  const cache = new BoundedCache<RawObject>(opts.cacheBytes ?? DELTA_BASE_CACHE_BYTES, (o) => o.content.length);
  let packs: Pack[] | null = null;

  const listPacks = (): Pack[] => {
    const known = new Map((packs ?? []).map((p) => [p.path, p]));
    let names: string[];
    try {
      names = listDir(packDir);
    } catch {
      names = [];
    }
    packs = names
      .filter((n) => n.endsWith('.idx'))
      .sort()
      .map((name) => {
        const path = join(packDir, name.replace(/\.idx$/, '.pack'));
        return known.get(path) ?? { path, idx: readFileSync(join(packDir, name)) };
      });
    return packs;
  };

  const inPacks = (oid: string, list: readonly Pack[]): Location | null => {
    for (const pack of list) {
      const offset = findOffset(pack.idx, oid);
      if (offset !== null) return { pack, offset };
    }
    return null;
  };

  /** In a pack, or loose (null), or absent (undefined): the listing is read again once on a miss. */
  const locate = (oid: string): Location | null | undefined => {
    const cached = packs;
    const found = inPacks(oid, cached ?? listPacks());
    if (found) return found;
    if (looseExists(gitdir, oid)) return null;
    if (cached === null) return undefined;
    return inPacks(oid, listPacks()) ?? undefined;
  };

  const packedObject = (pack: Pack, offset: number, oid: string, depth: number): RawObject => {
    const key = `${pack.path}:${offset}`;
    const hit = cache.get(key);
    if (hit) return hit;
    if (depth > MAX_DELTA_CHAIN) throw unreadable(oid, 'its delta chain does not end');
    const entry = readEntry(pack, offset, oid);
    const header = entryHeader(entry, 0);
    const data = inflateEntry(entry.subarray(header.dataStart), header.size, oid);
    let object: RawObject;
    const type = typeName(header.kind);
    if (type) {
      object = { type, content: data };
    } else if (header.kind === OFS_DELTA) {
      // Parsed at 0, the header's base offset is relative: the base sits that far back in the pack.
      const base = packedObject(pack, offset + header.baseOffset!, oid, depth + 1);
      object = { type: base.type, content: applyDelta(base.content, data, oid) };
    } else if (header.kind === REF_DELTA) {
      const baseOid = Buffer.from(entry.subarray(header.dataStart - 20, header.dataStart)).toString('hex');
      const base = objectOf(baseOid, depth + 1);
      object = { type: base.type, content: applyDelta(base.content, data, oid) };
    } else {
      throw unreadable(oid, `its pack entry has the unknown type ${header.kind}`);
    }
    cache.set(key, object);
    return object;
  };

  const objectOf = (oid: string, depth: number): RawObject => {
    const where = locate(oid);
    if (where === undefined) throw unreadable(oid, 'it is not in the clone');
    return objectAt(where, oid, depth);
  };

  const objectAt = (where: Location | null, oid: string, depth: number): RawObject =>
    where === null ? looseObject(gitdir, oid) : packedObject(where.pack, where.offset, oid, depth);

  const sizeAt = (pack: Pack, offset: number, oid: string, depth: number): ObjectSize => {
    if (depth > MAX_DELTA_CHAIN) throw unreadable(oid, 'its delta chain does not end');
    const head = readAt(pack.path, offset, HEADER_BYTES);
    const header = entryHeader(head, 0);
    const type = typeName(header.kind);
    if (type) return { type, size: header.size };
    const size = deltaResultSize(inflatePrefix(readAt(pack.path, offset + header.dataStart, DELTA_PREFIX_BYTES)));
    if (size === null) throw unreadable(oid, 'its delta has no sizes');
    if (header.kind === OFS_DELTA) return { type: sizeAt(pack, offset + header.baseOffset!, oid, depth + 1).type, size };
    if (header.kind === REF_DELTA) {
      const baseOid = Buffer.from(head.subarray(header.dataStart - 20, header.dataStart)).toString('hex');
      return { type: sizeOfAny(baseOid, depth + 1).type, size };
    }
    throw unreadable(oid, `its pack entry has the unknown type ${header.kind}`);
  };

  const sizeOfAny = (oid: string, depth: number): ObjectSize => {
    const where = locate(oid);
    if (where === undefined) throw unreadable(oid, 'it is not in the clone');
    return where === null ? looseHeader(gitdir, oid) : sizeAt(where.pack, where.offset, oid, depth);
  };

  return {
    read: (oid) =>
      unreadableOnError(oid, () => {
        const where = locate(oid);
        if (where === undefined) return null;
        const object = objectAt(where, oid, 0);
        assertHashesTo(object, oid);
        return object;
      }),
    sizeOf: (oid) => unreadableOnError(oid, () => sizeOfAny(oid, 0)),
    // An index that does not read is an object the clone does not have: the fetch brings it again.
    has: (oid) => {
      try {
        return locate(oid) !== undefined;
      } catch {
        return false;
      }
    },
    invalidate: () => {
      packs = null;
      cache.clear();
    },
  };

  function readEntry(pack: Pack, offset: number, oid: string): Uint8Array {
    pack.bounds ??= boundsOf(pack);
    const { offsets, end } = pack.bounds;
    const at = lowerBound(offsets, offset);
    if (offsets[at] !== offset) throw unreadable(oid, `no pack entry starts at byte ${offset}`);
    const next = at + 1 < offsets.length ? offsets[at + 1]! : end;
    return readAt(pack.path, offset, next - offset);
  }
}

function boundsOf(pack: Pack): { offsets: Float64Array; end: number } {
  const { idx } = pack;
  const count = idx.readUInt32BE(8 + 255 * 4);
  const offsets = new Float64Array(count);
  const table = 8 + 256 * 4 + count * 24;
  for (let i = 0; i < count; i++) offsets[i] = offsetAt(idx, table, count, i);
  offsets.sort();
  const fd = openSync(pack.path, 'r');
  try {
    // The pack ends with a 20-byte checksum.
    return { offsets, end: fstatSync(fd).size - 20 };
  } finally {
    closeSync(fd);
  }
}

function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function offsetAt(idx: Buffer, table: number, count: number, i: number): number {
  const small = idx.readUInt32BE(table + i * 4);
  if (!(small & 0x80000000)) return small;
  return Number(idx.readBigUInt64BE(table + count * 4 + (small & 0x7fffffff) * 8));
}

/** The object's offset in the pack, from a version 2 index: fan-out table, sorted ids, offsets. */
function findOffset(idx: Buffer, oid: string): number | null {
  if (idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2) return null;
  const want = Buffer.from(oid, 'hex');
  if (want.length !== 20) return null;
  const fanout = 8;
  const count = idx.readUInt32BE(fanout + 255 * 4);
  const first = want[0]!;
  let lo = first === 0 ? 0 : idx.readUInt32BE(fanout + (first - 1) * 4);
  let hi = idx.readUInt32BE(fanout + first * 4);
  const ids = fanout + 256 * 4;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = want.compare(idx, ids + mid * 20, ids + mid * 20 + 20);
    if (cmp === 0) return offsetAt(idx, ids + count * 24, count, mid);
    if (cmp < 0) hi = mid;
    else lo = mid + 1;
  }
  return null;
}

function inflateEntry(compressed: Uint8Array, size: number, oid: string): Uint8Array {
  let out: Buffer;
  try {
    // The declared size is the ceiling: a header that lies costs no more than what it declared.
    out = inflateSync(compressed, { maxOutputLength: Math.max(1, size), chunkSize: chunkFor(size) });
  } catch (err) {
    throw unreadable(oid, `its data does not inflate to its declared ${size} bytes (${(err as Error).message})`);
  }
  if (out.length !== size) throw unreadable(oid, `its data inflates to ${out.length} bytes, not its declared ${size}`);
  return out;
}

function loosePath(gitdir: string, oid: string): string {
  return join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2));
}

function looseExists(gitdir: string, oid: string): boolean {
  if (!/^[0-9a-f]{40}$/.test(oid)) return false;
  try {
    closeSync(openSync(loosePath(gitdir, oid), 'r'));
    return true;
  } catch {
    return false;
  }
}

function looseObject(gitdir: string, oid: string): RawObject {
  let raw: Buffer;
  try {
    raw = inflateSync(readFileSync(loosePath(gitdir, oid)));
  } catch (err) {
    throw unreadable(oid, `its loose object does not read (${(err as Error).message})`);
  }
  const nul = raw.indexOf(0);
  const match = /^(commit|tree|blob|tag) (\d+)$/.exec(raw.subarray(0, Math.max(0, nul)).toString('latin1'));
  if (!match || raw.length - nul - 1 !== Number(match[2])) throw unreadable(oid, 'its loose object header is malformed');
  return { type: match[1] as ObjectType, content: raw.subarray(nul + 1) };
}

function looseHeader(gitdir: string, oid: string): ObjectSize {
  const text = Buffer.from(inflatePrefix(readAt(loosePath(gitdir, oid), 0, DELTA_PREFIX_BYTES))).toString('latin1');
  const match = /^(commit|tree|blob|tag) (\d+)\0/.exec(text);
  if (!match) throw unreadable(oid, 'its loose object header is malformed');
  return { type: match[1] as ObjectType, size: Number(match[2]) };
}

// Synchronous on purpose: entries are small and many, and a thread-pool round trip per read costs
// more than the read.
function readAt(file: string, position: number, length: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(length);
    const read = readSync(fd, buffer, 0, length, position);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

function assertHashesTo(object: RawObject, oid: string): void {
  const id = objectId(object.type, object.content);
  if (id !== oid) throw unreadable(oid, `its bytes hash to ${id}`);
}

/** Whatever fails while reading the clone (a truncated pack, a bad header) is a broken clone: `internal`. */
function unreadableOnError<T>(oid: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof DuckError && err.code === 'internal') throw err;
    throw unreadable(oid, (err as Error).message);
  }
}

function unreadable(oid: string, why: string): DuckError {
  return new DuckError('internal', `object ${oid} cannot be read from the clone: ${why}`, { oid });
}
