import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { deltaResultSize, entryHeader } from '../../agent/src/adapters/git-pack.js';
import { indexHolds, indexPack } from '../../agent/src/adapters/git-pack-index.js';
import type { DuckError } from '../../schemas/errors.js';

const CAP = 1000;

/** A pack entry header as git writes it: type and size, 4 bits then 7 at a time. */
function header(kind: number, size: number): Buffer {
  const bytes = [(kind << 4) | (size & 0x0f)];
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes[bytes.length - 1]! |= 0x80;
    bytes.push(rest & 0x7f);
    rest = Math.floor(rest / 128);
  }
  return Buffer.from(bytes);
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  do {
    bytes.push((n & 0x7f) | (n >= 128 ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return Buffer.from(bytes);
}

/** A pack of the given entries (header, then the zlib data), with its checksum. */
function pack(...entries: Buffer[]): Buffer {
  const head = Buffer.alloc(12);
  head.write('PACK', 0, 'latin1');
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(entries.length, 8);
  const body = Buffer.concat([head, ...entries]);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

const oidOf = (type: string, content: Buffer): string => createHash('sha1').update(`${type} ${content.length}\0`).update(content).digest('hex');

const whole = (kind: number, content: Buffer, declared = content.length): Buffer => Buffer.concat([header(kind, declared), deflateSync(content)]);
const refDelta = (delta: Buffer, base = 'ab'.repeat(20)): Buffer => Buffer.concat([header(7, delta.length), Buffer.from(base, 'hex'), deflateSync(delta)]);

async function refusal(p: Buffer): Promise<DuckError> {
  try {
    await indexPack(p, { maxBytes: CAP, source: 'http://example/channel.git' });
  } catch (err) {
    return err as DuckError;
  }
  throw new Error('the pack was not refused');
}

test('reads a pack entry header: type, a multi-byte size, and an offset delta base', () => {
  assert.equal(entryHeader(header(3, 100_000), 0), { kind: 3, size: 100_000, dataStart: 3 });
  const ofs = Buffer.concat([header(6, 10), Buffer.from([0x05])]);
  assert.equal(entryHeader(Buffer.concat([Buffer.alloc(200), ofs]), 200), { kind: 6, size: 10, dataStart: 202, baseOffset: 195 });
});

test('reads what a delta makes from its second size', () => {
  assert.is(deltaResultSize(Buffer.concat([varint(300), varint(70_000)])), 70_000);
  assert.is(deltaResultSize(varint(300)), null);
});

test('indexes a pack whose objects and delta results are within the cap, as git names them', async () => {
  const hello = Buffer.from('hello');
  // Copy the 5 bytes of the base, 200 times over.
  const delta = Buffer.concat([varint(5), varint(CAP), ...Array.from({ length: CAP / 5 }, () => Buffer.from([0x90, 5]))]);
  const idx = Buffer.from(await indexPack(pack(whole(3, hello), whole(1, Buffer.alloc(CAP, 0x61)), refDelta(delta, oidOf('blob', hello))), { maxBytes: CAP, source: 'src' }));
  const count = idx.readUInt32BE(8 + 255 * 4);
  const ids = Array.from({ length: count }, (_, i) => idx.subarray(8 + 1024 + i * 20, 8 + 1024 + i * 20 + 20).toString('hex'));
  const expected = [oidOf('blob', hello), oidOf('commit', Buffer.alloc(CAP, 0x61)), oidOf('blob', Buffer.from('hello'.repeat(CAP / 5)))].sort();
  assert.equal(ids, expected);
  // The fetch keeps a pack only if its index lists the tip.
  for (const oid of expected) assert.ok(indexHolds(idx, oid), oid);
  for (const oid of ['00'.repeat(20), 'ff'.repeat(20), `${expected[0]!.slice(0, 39)}${expected[0]!.endsWith('0') ? '1' : '0'}`]) assert.not.ok(indexHolds(idx, oid), oid);
});

/** An offset delta's header: git's base-128 distance back to its base, one added at each continuation. */
function ofsHeader(size: number, back: number): Buffer {
  const bytes = [back & 0x7f];
  for (let rest = Math.floor(back / 128); rest > 0; rest = Math.floor(rest / 128)) bytes.unshift(0x80 | ((rest - 1) & 0x7f));
  return Buffer.concat([header(6, size), Buffer.from(bytes)]);
}

/** A delta that copies all of a base of `size` bytes (< 64 KiB) and appends one byte. */
const appendOne = (size: number, byte: number): Buffer => Buffer.concat([varint(size), varint(size + 1), Buffer.from([0xb0, size & 0xff, size >> 8, 1, byte])]);

test('keeps an object only while a later delta is based on it, and names every object of a chain as git does', async () => {
  // A blob and a chain of offset deltas, each appending a byte to the one before; then a ref-delta
  // on a result in the middle of the chain (a base the first pass cannot count: made again).
  const size = 20_000;
  const contents = [Buffer.alloc(size, 0x61)];
  const entries = [whole(3, contents[0]!)];
  const offsets = [12];
  for (let i = 1; i <= 8; i++) {
    const delta = appendOne(contents[i - 1]!.length, 0x30 + i);
    contents.push(Buffer.concat([contents[i - 1]!, Buffer.from([0x30 + i])]));
    offsets.push(offsets[i - 1]! + entries[i - 1]!.length);
    entries.push(Buffer.concat([ofsHeader(delta.length, offsets[i]! - offsets[i - 1]!), deflateSync(delta)]));
  }
  entries.push(refDelta(appendOne(contents[4]!.length, 0x7a), oidOf('blob', contents[4]!)));
  contents.push(Buffer.concat([contents[4]!, Buffer.from([0x7a])]));
  let peak = 0;
  const idx = Buffer.from(await indexPack(pack(...entries), { maxBytes: 100_000, source: 'src', onKept: (bytes) => (peak = Math.max(peak, bytes)) }));
  const count = idx.readUInt32BE(8 + 255 * 4);
  const ids = Array.from({ length: count }, (_, i) => idx.subarray(8 + 1024 + i * 20, 8 + 1024 + i * 20 + 20).toString('hex'));
  assert.equal(ids, contents.map((c) => oidOf('blob', c)).sort());
  // A link and the one made from it, never the chain: the rest was garbage as soon as it was hashed.
  assert.ok(peak > 0, 'nothing was kept for the deltas based on it');
  assert.ok(peak <= 2 * (size + 8), `kept ${peak} bytes at once for a chain of ${contents.length} objects of ${size} bytes`);
});

test('refuses a pack whose checksum does not match its bytes as a malformed download (fetch)', async () => {
  const p = pack(whole(3, Buffer.from('hello')));
  p[p.length - 1]! ^= 1;
  const err = await refusal(p);
  assert.is(err.code, 'fetch');
  assert.match(err.message, /checksum/);
});

test('refuses a pack that declares more entries than its bytes can hold, before making room for them', async () => {
  const p = pack(whole(3, Buffer.from('hello')));
  p.writeUInt32BE(0xffffffff, 8);
  const err = await refusal(p);
  assert.is(err.code, 'fetch');
  assert.match(err.message, /declares 4294967295 entries, more than its \d+ bytes can hold/);
});

test('refuses a whole object over the cap by its declared size, naming its id', async () => {
  const err = await refusal(pack(whole(3, Buffer.from('a')), whole(3, Buffer.alloc(CAP + 1))));
  assert.is(err.code, 'too-large');
  // git hash-object of 1001 zero bytes
  assert.match(err.message, /holds blob [0-9a-f]{40} of 1001 bytes, over the 1000-byte limit/);
  assert.is(err.data.field, '/limits/maxFileBytes');
});

test('refuses a delta that makes an object over the cap without applying it', async () => {
  const delta = Buffer.concat([varint(5), varint(CAP * 50), Buffer.from([0x91, 0, 5])]);
  const err = await refusal(pack(refDelta(delta)));
  assert.is(err.code, 'too-large');
  assert.match(err.message, /an object made by a delta of 50000 bytes/);
});

test('refuses an entry that inflates past its declared size as a malformed download (fetch)', async () => {
  const err = await refusal(pack(whole(3, Buffer.alloc(CAP * 100), 10)));
  assert.is(err.code, 'fetch');
  assert.match(err.message, /does not inflate to its declared 10 bytes/);
});

test.run();
