// Diagnostics bundles on disk: `<data>/diagnostics/<id>.tar.gz`, names the controller makes.
// An upload streams to a temp file in the same directory (so the rename is atomic), hashed and
// counted on the way; past the cap, or when it is no gzip-compressed tar (diagnostics-bundle.ts),
// the temp file is removed and nothing is kept.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { bundleProblem } from './diagnostics-bundle.js';

export const DIAGNOSTICS_DIR = 'diagnostics';
const TEMP_PREFIX = '.upload-';
const MAX_DISPLAY_NAME = 100;

export function diagnosticsDir(dataDir: string): string {
  return join(dataDir, DIAGNOSTICS_DIR);
}

export function diagnosticPath(dataDir: string, id: string): string {
  return join(diagnosticsDir(dataDir), `${id}.tar.gz`);
}

/**
 * A display name from what the client sent: its last path segment, only [A-Za-z0-9._-], no
 * leading dots, bounded. It is shown and offered as the download name, never used as a path.
 */
export function sanitizeFilename(raw: string | undefined, fallback: string): string {
  const last = (raw ?? '').split(/[/\\]/).pop() ?? '';
  const clean = last
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, MAX_DISPLAY_NAME);
  return clean === '' ? fallback : clean;
}

/** Refused: past the cap (`too-large`), or not a gzip-compressed tar (`problem` says how). */
export type Received = { ok: true; bytes: number; sha256: string } | { ok: false; refusal: 'too-large' } | { ok: false; refusal: 'not-a-bundle'; problem: string };

/** Streams the request body to `tempPath`, keeping backpressure; stops at `cap` bytes. */
function streamCapped(req: IncomingMessage, tempPath: string, cap: number, hash: ReturnType<typeof createHash>): Promise<number | null> {
  const out = createWriteStream(tempPath, { flags: 'wx', mode: 0o600 });
  let bytes = 0;
  return new Promise<number | null>((resolve, reject) => {
    const stop = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      out.off('error', onError);
      out.off('drain', onDrain);
    };
    const settle = (value: number | null): void => {
      stop();
      out.end(() => resolve(value));
    };
    const onDrain = (): void => void req.resume();
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (bytes > cap) {
        req.pause();
        settle(null);
        return;
      }
      hash.update(chunk);
      if (!out.write(chunk)) req.pause();
    };
    const onEnd = (): void => settle(bytes);
    const onError = (err: Error): void => {
      stop();
      out.destroy();
      reject(err);
    };
    const onClose = (): void => onError(new Error('the client closed the connection before the upload ended'));
    out.on('drain', onDrain);
    out.on('error', onError);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

export async function receiveUpload(req: IncomingMessage, dataDir: string, id: string, cap: number): Promise<Received> {
  const dir = diagnosticsDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `${TEMP_PREFIX}${id}.tmp`);
  const hash = createHash('sha256');
  try {
    const bytes = await streamCapped(req, temp, cap, hash);
    if (bytes === null) {
      await rm(temp, { force: true });
      return { ok: false, refusal: 'too-large' };
    }
    const problem = await bundleProblem(temp, cap);
    if (problem !== null) {
      await rm(temp, { force: true });
      return { ok: false, refusal: 'not-a-bundle', problem };
    }
    await rename(temp, diagnosticPath(dataDir, id));
    return { ok: true, bytes, sha256: hash.digest('hex') };
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * An upload's temp file not written for this long is a crash's leftover: Node's HTTP server ends a
 * request after 5 minutes (requestTimeout), so no live upload is that quiet.
 */
export const STALE_UPLOAD_MS = 3_600_000;

/**
 * Temp files a crash left behind, by age: controllers that share one --data directory (several
 * instances on one database) must not remove each other's uploads in flight when one starts.
 */
export async function removeStaleUploads(dataDir: string, now: Date, olderThanMs = STALE_UPLOAD_MS): Promise<number> {
  const dir = diagnosticsDir(dataDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const path = join(dir, name);
    const written = await stat(path).then(
      (s) => s.mtimeMs,
      () => null,
    );
    if (written === null || now.getTime() - written < olderThanMs) continue;
    await rm(path, { force: true });
    removed++;
  }
  return removed;
}

export async function removeDiagnosticFile(dataDir: string, id: string): Promise<void> {
  await rm(diagnosticPath(dataDir, id), { force: true });
}
