import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckError } from '../../../schemas/errors.js';
import type { ObjectType } from './git-pack.js';
import { deltaResultSize, entryHeader, inflatePrefix, OFS_DELTA, REF_DELTA, typeName } from './git-pack.js';

export interface ObjectSize {
  readonly type: ObjectType;
  readonly size: number;
}

/**
 * An object's type and declared size, read from a repository without inflating the object: a
 * loose object's header is its first inflated bytes; a packed one is found through the pack's
 * index, and its entry header (a delta's first bytes for what it makes) gives the size. isomorphic-
 * git's readObject inflates the whole object, so a size cap is checked here first.
 * Index files are kept by name: a pack and its index never change once written (the name is their hash).
 */
export function objectSizes(gitdir: string): (oid: string) => Promise<ObjectSize> {
  const packDir = join(gitdir, 'objects', 'pack');
  const indexes = new Map<string, Promise<Buffer>>();
  const indexOf = (name: string): Promise<Buffer> => {
    let idx = indexes.get(name);
    if (!idx) indexes.set(name, (idx = readFile(join(packDir, name))));
    return idx;
  };

  const sizeOf = async (oid: string, depth = 0): Promise<ObjectSize> => {
    if (depth > MAX_DELTA_CHAIN) throw unreadable(oid, 'its delta chain does not end');
    const loose = await looseHeader(gitdir, oid);
    if (loose) return loose;
    const names = (await readdir(packDir).catch(() => [] as string[])).filter((n) => n.endsWith('.idx')).sort();
    for (const name of names) {
      const offset = findOffset(await indexOf(name), oid);
      if (offset === null) continue;
      const pack = join(packDir, name.replace(/\.idx$/, '.pack'));
      return packedSize(pack, offset, oid, (base) => sizeOf(base, depth + 1));
    }
    throw unreadable(oid, 'it is not in the clone');
  };
  return (oid) => sizeOf(oid);
}

const MAX_DELTA_CHAIN = 4096;
// An entry header is at most ~10 bytes plus a 20-byte base id; a delta's two sizes sit in its first
// inflated bytes, which the first few hundred compressed bytes always hold.
const HEADER_BYTES = 64;
const DELTA_PREFIX_BYTES = 512;

async function looseHeader(gitdir: string, oid: string): Promise<ObjectSize | null> {
  const head = await readAt(join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2)), 0, DELTA_PREFIX_BYTES).catch(() => null);
  if (!head) return null;
  const text = Buffer.from(inflatePrefix(head)).toString('latin1');
  const match = /^(commit|tree|blob|tag) (\d+)\0/.exec(text);
  if (!match) throw unreadable(oid, 'its loose object header is malformed');
  return { type: match[1] as ObjectType, size: Number(match[2]) };
}

async function packedSize(pack: string, offset: number, oid: string, sizeOfBase: (oid: string) => Promise<ObjectSize>): Promise<ObjectSize> {
  const header = entryHeader(await readAt(pack, offset, HEADER_BYTES), 0);
  const type = typeName(header.kind);
  if (type) return { type, size: header.size };
  const delta = inflatePrefix(await readAt(pack, offset + header.dataStart, DELTA_PREFIX_BYTES));
  const size = deltaResultSize(delta);
  if (size === null) throw unreadable(oid, 'its delta has no sizes');
  let base: ObjectSize;
  if (header.kind === OFS_DELTA) {
    base = await packedSize(pack, header.baseOffset! + offset, oid, sizeOfBase);
  } else if (header.kind === REF_DELTA) {
    const ref = await readAt(pack, offset + header.dataStart - 20, 20);
    base = await sizeOfBase(Buffer.from(ref).toString('hex'));
  } else {
    throw unreadable(oid, `its pack entry has the unknown type ${header.kind}`);
  }
  return { type: base.type, size };
}

/** The object's offset in the pack, from a version 2 index: fan-out table, sorted ids, offsets. */
function findOffset(idx: Buffer, oid: string): number | null {
  if (idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2) return null;
  const want = Buffer.from(oid, 'hex');
  const fanout = 8;
  const count = idx.readUInt32BE(fanout + 255 * 4);
  const first = want[0]!;
  let lo = first === 0 ? 0 : idx.readUInt32BE(fanout + (first - 1) * 4);
  let hi = idx.readUInt32BE(fanout + first * 4);
  const ids = fanout + 256 * 4;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = idx.compare(want, 0, 20, ids + mid * 20, ids + mid * 20 + 20) * -1;
    if (cmp === 0) {
      const offsets = ids + count * 24;
      const small = idx.readUInt32BE(offsets + mid * 4);
      if (!(small & 0x80000000)) return small;
      const large = offsets + count * 4 + (small & 0x7fffffff) * 8;
      return Number(idx.readBigUInt64BE(large));
    }
    if (cmp < 0) hi = mid;
    else lo = mid + 1;
  }
  return null;
}

async function readAt(file: string, position: number, length: number): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function unreadable(oid: string, why: string): DuckError {
  return new DuckError('internal', `object ${oid}: its size cannot be read: ${why}`, { oid });
}
