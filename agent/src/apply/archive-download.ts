/**
 * Image archives over HTTP(S) (DESIGN §2, §4.3 step 2): streamed to disk, capped at the declared
 * size, sha256-checked, resumable. A download happens while the old version still serves, on links
 * that may be slow or flaky, so an interrupted one resumes from what is already on disk instead of
 * starting over; the sha256 covers every byte whichever request brought it.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pRetry from 'p-retry';
import type { ImageArchive } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';

export interface DownloadProgress {
  url: string;
  /** Bytes on disk so far (a resumed download starts above 0). */
  bytes: number;
  /** The declared size. */
  total: number;
}

export interface DownloadOptions {
  /** Where `<sha256>.part` and `<sha256>.tar` live. */
  dir: string;
  /** Called when the whole percentage changes (at most ~100 times), and once at 100%. */
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Retries after the first try, for network errors and 5xx; default 4. */
  retries?: number;
  /** The first backoff; default 1 s, doubling each time. */
  minTimeoutMs?: number;
  /** A connection that sends nothing for this long is dropped and retried; default 60 s. */
  idleTimeoutMs?: number;
}

const SHA256_HEX = /^[a-f0-9]{64}$/;
/** Statuses worth another try: the server or a proxy is having a bad moment. */
const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * Downloads `archive.url` into `<dir>/<sha256>.tar` and returns that path. A finished file that
 * already matches is reused without a request. Refusals: `too-large` (more bytes than declared),
 * `digest-mismatch` (wrong length or sha256); both delete what was downloaded. `fetch` errors are
 * transient (network, 5xx; already retried here) or stalled (4xx).
 */
export async function downloadArchive(archive: ImageArchive, options: DownloadOptions): Promise<string> {
  const { url, sha256, size } = archive;
  if (!SHA256_HEX.test(sha256)) throw new DuckError('invalid', `archive sha256 "${sha256}" is not 64 lower-case hex digits`, { url });
  if (!/^https?:\/\//i.test(url)) throw new DuckError('invalid', `archive url "${url}" is not http(s)`, { url });
  await mkdir(options.dir, { recursive: true }).catch((err: unknown) => {
    throw ioError(`cannot create ${options.dir}`, err);
  });
  const finished = join(options.dir, `${sha256}.tar`);
  const part = join(options.dir, `${sha256}.part`);

  const existing = await fileDigest(finished);
  if (existing !== null) {
    if (existing.size === size && existing.sha256 === sha256) {
      options.onProgress?.({ url, bytes: size, total: size });
      return finished;
    }
    // Not what the release names (a disk error, a hand edit): fetch it again.
    await remove(finished);
  }

  await pRetry(() => attempt(archive, part, options), {
    retries: options.retries ?? 4,
    minTimeout: options.minTimeoutMs ?? 1000,
    factor: 2,
    signal: options.signal,
    shouldRetry: ({ error }) =>
      !options.signal?.aborted && error instanceof DuckError && error.code === 'fetch' && error.retry === 'transient',
  });

  const done = await fileDigest(part);
  if (done === null) throw new DuckError('io', `${part} vanished after its download`, { file: part });
  if (done.size !== size || done.sha256 !== sha256) {
    await remove(part);
    throw new DuckError(
      'digest-mismatch',
      `archive ${url}: expected sha256 ${sha256} (${size} bytes), got sha256 ${done.sha256} (${done.size} bytes)`,
      { url, expected: sha256, actual: done.sha256, expectedSize: size, actualSize: done.size },
    );
  }
  await rename(part, finished).catch((err: unknown) => {
    throw ioError(`cannot rename ${part} to ${finished}`, err);
  });
  return finished;
}

/**
 * One request: resume from the `.part` on disk when the server honours Range, else start over.
 * Ends with the whole declared length on disk (checked by the caller) or throws.
 */
async function attempt(archive: ImageArchive, part: string, options: DownloadOptions): Promise<void> {
  const { url, size } = archive;
  let onDisk = await fileDigest(part, { keepHash: true });
  if (onDisk !== null && onDisk.size > size) {
    await remove(part);
    onDisk = null;
  }
  // Already complete: the caller checks the digest; a wrong one is deleted and refused there.
  if (onDisk !== null && onDisk.size === size) return;

  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const idleMs = options.idleTimeoutMs ?? 60_000;
  let idle: NodeJS.Timeout | undefined;
  const touch = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => controller.abort(fetchError(url, `no data for ${idleMs / 1000} s`)), idleMs);
  };

  const from = onDisk?.size ?? 0;
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (from > 0) headers.range = `bytes=${from}-`;

  let file: FileHandle | undefined;
  try {
    touch();
    let response: Response;
    try {
      response = await fetch(url, { headers, signal, redirect: 'follow' });
    } catch (err) {
      throw networkError(url, err, signal);
    }

    let hash: Hash;
    let bytes: number;
    const resumable = onDisk?.hash;
    if (resumable && from > 0 && response.status === 206 && rangeStart(response.headers.get('content-range')) === from) {
      hash = resumable;
      bytes = from;
      file = await openPart(part, 'a');
    } else if (response.status === 200) {
      // A server that ignores Range sends the whole file again: keep none of the old part.
      hash = createHash('sha256');
      bytes = 0;
      file = await openPart(part, 'w');
    } else {
      await response.body?.cancel().catch(() => undefined);
      if (response.status === 416 || response.status === 206) {
        // The part does not fit what the server has now (or a range we did not ask for): start over,
        // unless the server says its file has another length than the release declares.
        await remove(part);
        const serverSize = Number(/^bytes \*\/(\d+)$/i.exec(response.headers.get('content-range') ?? '')?.[1] ?? Number.NaN);
        if (Number.isFinite(serverSize) && serverSize !== size) {
          throw new DuckError('digest-mismatch', `archive ${url}: the server has ${serverSize} bytes, the release declares ${size}`, {
            url,
            expectedSize: size,
            actualSize: serverSize,
          });
        }
        throw fetchError(url, `HTTP ${response.status} for a resume from byte ${from}; starting over`);
      }
      const transient = TRANSIENT_STATUS.has(response.status);
      throw new DuckError('fetch', `GET ${url}: HTTP ${response.status} ${response.statusText}`.trim(), { url, status: response.status }, transient ? 'transient' : 'stalled');
    }

    // Refuse before the body when the server announces more than the release allows.
    const announced = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(announced) && bytes + announced > size) {
      controller.abort();
      await file.close();
      file = undefined;
      await remove(part);
      throw tooLarge(url, size, bytes + announced);
    }

    let lastPercent = -1;
    const report = (): void => {
      const percent = size === 0 ? 100 : Math.floor((bytes * 100) / size);
      if (percent === lastPercent) return;
      lastPercent = percent;
      options.onProgress?.({ url, bytes, total: size });
    };
    report();
    if (response.body === null) throw fetchError(url, 'response without a body');
    try {
      for await (const chunk of response.body) {
        touch();
        if (bytes + chunk.byteLength > size) {
          controller.abort();
          await file.close();
          file = undefined;
          await remove(part);
          throw tooLarge(url, size, bytes + chunk.byteLength);
        }
        await writeAll(file, chunk).catch((err: unknown) => {
          throw ioError(`cannot write ${part}`, err);
        });
        hash.update(chunk);
        bytes += chunk.byteLength;
        report();
      }
    } catch (err) {
      if (err instanceof DuckError) throw err;
      throw networkError(url, err, signal);
    }
    // A whole response shorter than declared is the wrong file: the caller's check refuses it. A
    // body without a length that ends early may be a dying server: go again.
    const received = bytes - (response.status === 206 ? from : 0);
    if (bytes < size && received !== announced) throw fetchError(url, `connection closed after ${bytes} of ${size} bytes`);
  } finally {
    clearTimeout(idle);
    await file?.close().catch(() => undefined);
  }
}

/** The first byte of a `Content-Range: bytes <first>-<last>/<total>` header. */
function rangeStart(header: string | null): number | null {
  const match = /^bytes\s+(\d+)-\d+\/(?:\d+|\*)$/i.exec(header?.trim() ?? '');
  return match?.[1] === undefined ? null : Number(match[1]);
}

/** Size and sha256 of a file, or null when it does not exist; `keepHash` keeps the hash open to go on. */
export async function fileDigest(
  path: string,
  options: { keepHash?: boolean } = {},
): Promise<{ size: number; sha256: string; hash?: Hash } | null> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new DuckError('io', `${path} is not a regular file`, { file: path });
    size = info.size;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return null;
    if (err instanceof DuckError) throw err;
    throw ioError(`cannot read ${path}`, err);
  }
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) hash.update(chunk);
  }).catch((err: unknown) => {
    throw ioError(`cannot read ${path}`, err);
  });
  // A Hash cannot be read and then updated: digest a copy, keep the original going.
  return options.keepHash ? { size, sha256: hash.copy().digest('hex'), hash } : { size, sha256: hash.digest('hex') };
}

/**
 * Prints download progress: on a TTY one line redrawn in place, elsewhere (logs, CI) a plain line
 * at most every 10%, so a log file does not fill with a line per chunk.
 */
export function progressPrinter(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  label = 'download',
): (progress: DownloadProgress) => void {
  let lastDecile = -1;
  return ({ bytes, total }) => {
    const percent = total === 0 ? 100 : Math.min(100, Math.floor((bytes * 100) / total));
    const amount = `${formatBytes(bytes)} / ${formatBytes(total)}`;
    if (stream.isTTY) {
      const width = 24;
      const filled = Math.round((percent / 100) * width);
      const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
      stream.write(`\r\x1b[2K${label} [${bar}] ${String(percent).padStart(3)}% ${amount}${percent === 100 ? '\n' : ''}`);
      return;
    }
    const decile = Math.floor(percent / 10);
    if (decile <= lastDecile) return;
    lastDecile = decile;
    stream.write(`${label}: ${percent}% (${amount})\n`);
  };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** FileHandle.write may write less than asked (a full disk, a signal): go on until all is written. */
async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let offset = 0; offset < chunk.byteLength; ) {
    const { bytesWritten } = await file.write(chunk, offset);
    offset += bytesWritten;
  }
}

async function openPart(path: string, flags: 'a' | 'w'): Promise<FileHandle> {
  return open(path, flags).catch((err: unknown) => {
    throw ioError(`cannot open ${path}`, err);
  });
}

async function remove(path: string): Promise<void> {
  await rm(path, { force: true }).catch((err: unknown) => {
    throw ioError(`cannot remove ${path}`, err);
  });
}

function tooLarge(url: string, size: number, seen: number): DuckError {
  return new DuckError('too-large', `archive ${url} is larger than its declared ${size} bytes (${seen} or more); download stopped`, {
    url,
    size,
    seen,
  });
}

function fetchError(url: string, message: string, cause?: unknown): DuckError {
  return new DuckError('fetch', `GET ${url}: ${message}`, { url }, 'transient', cause === undefined ? undefined : { cause });
}

/** undici reports a refused or dropped connection as a TypeError whose `cause` says what happened. */
function networkError(url: string, err: unknown, signal: AbortSignal): unknown {
  if (signal.aborted && signal.reason instanceof DuckError) return signal.reason;
  if (signal.aborted) return err;
  if (err instanceof DuckError) return err;
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause;
  const detail = [cause?.code, cause?.message ?? (err as Error).message].filter(Boolean).join(' ');
  return fetchError(url, detail, err);
}

function ioError(message: string, err: unknown): DuckError {
  const code = (err as { code?: unknown } | null)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  return new DuckError(code === 'ENOSPC' ? 'no-space' : 'io', `${message}: ${detail}`, {}, undefined, { cause: err });
}
