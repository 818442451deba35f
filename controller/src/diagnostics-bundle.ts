// Whether an upload is what `duck diagnostics` makes, a gzip-compressed tar, before it is kept:
// the gzip magic, then the stream inflated (its output counted and bounded by the upload cap, so a
// small bomb costs no more than a large honest bundle) and its first block a valid tar header.
// Deeper than that the controller does not look: it stores bundles, people read them.
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

const GZIP_MAGIC = [0x1f, 0x8b];
const TAR_BLOCK = 512;
const CHECKSUM_AT = 148;
const CHECKSUM_LENGTH = 8;

const hex = (bytes: Buffer): string => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');

/** Why a first 512-byte block is no tar header, or null when it is one (its checksum holds). */
export function tarHeaderProblem(block: Buffer): string | null {
  if (block.length < TAR_BLOCK) return `it inflates to ${block.length} bytes, less than one tar header (${TAR_BLOCK})`;
  if (block.every((b) => b === 0)) return 'it inflates to an empty tar archive';
  const field = block.subarray(CHECKSUM_AT, CHECKSUM_AT + CHECKSUM_LENGTH).toString('latin1');
  const declared = Number.parseInt(field.replace(/[\0 ]+$/, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= CHECKSUM_AT && i < CHECKSUM_AT + CHECKSUM_LENGTH ? 0x20 : block[i]!;
  return Number.isNaN(declared) || declared !== sum ? 'it inflates, but not to a tar archive (the first block is no tar header)' : null;
}

/** Counts what the gzip stream inflates to and keeps the first tar block; stops the pipeline past `limit`. */
class InflatedHead extends Writable {
  head = Buffer.alloc(0);
  bytes = 0;
  reachedLimit = false;

  constructor(private readonly limit: number) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.head.length < TAR_BLOCK) this.head = Buffer.concat([this.head, chunk.subarray(0, TAR_BLOCK - this.head.length)]);
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      this.reachedLimit = true;
      done(new Error('inflate limit'));
      return;
    }
    done();
  }
}

/**
 * Why the file at `path` is not a gzip-compressed tar, or null when it is. Inflating stops at
 * `limit` bytes of output: a bundle that inflates cleanly that far and starts with a tar header is
 * taken as one.
 */
export async function bundleProblem(path: string, limit: number): Promise<string | null> {
  const magic = await readStart(path, GZIP_MAGIC.length);
  if (magic.length < GZIP_MAGIC.length || !GZIP_MAGIC.every((b, i) => magic[i] === b)) {
    return `the body is not gzip: it starts with ${magic.length === 0 ? 'nothing' : hex(magic)}, not ${hex(Buffer.from(GZIP_MAGIC))}`;
  }
  const sink = new InflatedHead(limit);
  try {
    await pipeline(createReadStream(path), createGunzip(), sink);
  } catch (err) {
    if (!sink.reachedLimit) return `the gzip stream does not inflate: ${(err as Error).message}`;
  }
  return tarHeaderProblem(sink.head);
}

async function readStart(path: string, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1 })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
