// Image archives over real HTTP on loopback: the size cap, the sha256 check, resume after a dropped
// connection, which failures are retried, and the reuse of a finished file (DESIGN §2, §4.3 step 2).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { downloadArchive, progressPrinter, type DownloadOptions, type DownloadProgress } from '../../agent/src/apply/archive-download.js';
import { startFileServer, type FileServer } from '../helpers/file-server.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { rejection } from '../helpers/rejection.js';

interface Ctx {
  root: string;
  server: FileServer;
  /** A fresh downloads directory per test. */
  dir: string;
  scratch: string[];
}

const test = suite<Ctx>('archive download', {} as Ctx);

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

test.before(async (ctx) => {
  ctx.scratch = [];
  ctx.root = await makeTempDir('duck-files-');
  ctx.server = await startFileServer({ root: ctx.root });
});

test.before.each(async (ctx) => {
  ctx.server.clearFaults();
  ctx.server.resetLog();
  ctx.dir = await makeTempDir('duck-downloads-');
  ctx.scratch.push(ctx.dir);
});

test.after(async (ctx) => {
  await ctx.server.close();
  for (const dir of [ctx.root, ...ctx.scratch]) await removeTempDir(dir);
});

/** Puts `bytes` random bytes on the server as `name`; returns the archive a release would declare. */
async function serve(ctx: Ctx, name: string, bytes: number): Promise<{ data: Buffer; archive: { url: string; sha256: string; size: number } }> {
  const data = randomBytes(bytes);
  await writeFile(join(ctx.root, name), data);
  return { data, archive: { url: ctx.server.url(name), sha256: sha256(data), size: data.length } };
}

function fast(ctx: Ctx, extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return { dir: ctx.dir, retries: 3, minTimeoutMs: 10, ...extra };
}

test('downloads to <sha256>.tar, checked, with progress up to the declared total', async (ctx) => {
  const { data, archive } = await serve(ctx, 'ok.tar', 300_000);
  const seen: DownloadProgress[] = [];
  const path = await downloadArchive(archive, fast(ctx, { onProgress: (p) => seen.push(p) }));
  assert.is(path, join(ctx.dir, `${archive.sha256}.tar`));
  assert.ok((await readFile(path)).equals(data));
  assert.equal(await readdir(ctx.dir), [`${archive.sha256}.tar`]);
  assert.ok(seen.length >= 2 && seen.length <= 101, `progress calls: ${seen.length}`);
  assert.equal(seen.at(-1), { url: archive.url, bytes: data.length, total: data.length });
  assert.is(ctx.server.requests.length, 1);
});

test('refuses a wrong sha256 with digest-mismatch naming both digests, and leaves no file', async (ctx) => {
  const { archive } = await serve(ctx, 'tampered.tar', 50_000);
  const wrong = 'a'.repeat(64);
  const err = await rejection(downloadArchive({ ...archive, sha256: wrong }, fast(ctx)));
  assert.is(err.code, 'digest-mismatch');
  assert.match(err.message, wrong);
  assert.match(err.message, archive.sha256);
  assert.equal(await readdir(ctx.dir), []);
  assert.is(ctx.server.requests.length, 1, 'a wrong digest is not retried');
});

test('refuses an announced length beyond the declared size before reading the body (too-large)', async (ctx) => {
  const { archive } = await serve(ctx, 'big-announced.tar', 4 * 1024 * 1024);
  ctx.server.fault('big-announced.tar', { chunkDelayMs: 5 });
  const err = await rejection(downloadArchive({ ...archive, size: 64 * 1024 }, fast(ctx)));
  assert.is(err.code, 'too-large');
  assert.equal(await readdir(ctx.dir), []);
  await settle();
  const [request] = ctx.server.requests;
  assert.is(ctx.server.requests.length, 1, 'too-large is not retried');
  assert.not.ok(request?.complete, 'the server must not have sent the whole file');
  assert.ok(request!.bytesOut < request!.fileBytes / 4, `sent ${request!.bytesOut} of ${request!.fileBytes}`);
});

test('stops a body without a length as soon as it passes the declared size (too-large)', async (ctx) => {
  const { archive } = await serve(ctx, 'big-chunked.tar', 4 * 1024 * 1024);
  ctx.server.fault('big-chunked.tar', { omitLength: true, chunkDelayMs: 5 });
  const seen: DownloadProgress[] = [];
  const err = await rejection(downloadArchive({ ...archive, size: 100_000 }, fast(ctx, { onProgress: (p) => seen.push(p) })));
  assert.is(err.code, 'too-large');
  assert.equal(await readdir(ctx.dir), [], 'the .part is deleted');
  assert.ok(seen.every((p) => p.bytes <= 100_000), 'never more than the declared size on disk');
  await settle();
  const [request] = ctx.server.requests;
  assert.not.ok(request?.complete, 'the server must not have sent the whole file');
  assert.ok(request!.bytesOut < request!.fileBytes / 4, `sent ${request!.bytesOut} of ${request!.fileBytes}`);
});

test('resumes a dropped connection with a Range request and completes', async (ctx) => {
  const { data, archive } = await serve(ctx, 'flaky.tar', 400_000);
  ctx.server.fault('flaky.tar', { dropAfterBytes: 150_000, times: 1 });
  const path = await downloadArchive(archive, fast(ctx));
  assert.ok((await readFile(path)).equals(data));
  const [first, second] = ctx.server.requests;
  assert.is(ctx.server.requests.length, 2);
  assert.ok(first?.dropped, 'the first response was cut');
  assert.is(first?.range, undefined);
  const from = Number(/^bytes=(\d+)-$/.exec(second?.range ?? '')?.[1]);
  assert.ok(from > 0 && from <= 150_000, `resumed from ${second?.range}`);
  assert.is(second?.status, 206);
  assert.is(second?.bytesOut, data.length - from, 'only the missing bytes were sent again');
});

test('resumes a .part left by an earlier run', async (ctx) => {
  const { data, archive } = await serve(ctx, 'left.tar', 200_000);
  await writeFile(join(ctx.dir, `${archive.sha256}.part`), data.subarray(0, 120_000));
  const path = await downloadArchive(archive, fast(ctx));
  assert.ok((await readFile(path)).equals(data));
  assert.equal(ctx.server.requests.map((r) => [r.range, r.status, r.bytesOut]), [['bytes=120000-', 206, 80_000]]);
});

test('starts over when the server ignores Range (200)', async (ctx) => {
  const { data, archive } = await serve(ctx, 'norange.tar', 200_000);
  await writeFile(join(ctx.dir, `${archive.sha256}.part`), data.subarray(0, 120_000));
  ctx.server.fault('norange.tar', { ignoreRange: true });
  const path = await downloadArchive(archive, fast(ctx));
  assert.ok((await readFile(path)).equals(data), 'the old part is not kept in front of the full body');
  assert.equal(ctx.server.requests.map((r) => [r.range, r.status]), [['bytes=120000-', 200]]);
});

test('refuses a whole file shorter than declared as digest-mismatch, without retrying', async (ctx) => {
  const { archive } = await serve(ctx, 'short.tar', 30_000);
  const err = await rejection(downloadArchive({ ...archive, size: 40_000 }, fast(ctx)));
  assert.is(err.code, 'digest-mismatch');
  assert.match(err.message, '30000 bytes');
  assert.equal(await readdir(ctx.dir), []);
  assert.is(ctx.server.requests.length, 1);
});

test('drops a connection that stalls and resumes it', async (ctx) => {
  const { data, archive } = await serve(ctx, 'stall.tar', 100_000);
  ctx.server.fault('stall.tar', { chunkDelayMs: 1_000, times: 1 });
  const path = await downloadArchive(archive, fast(ctx, { idleTimeoutMs: 200 }));
  assert.ok((await readFile(path)).equals(data));
  const [first, second] = ctx.server.requests;
  assert.is(ctx.server.requests.length, 2);
  assert.not.ok(first?.complete);
  assert.is(second?.range, `bytes=${first?.bytesOut}-`);
});

test('stops at once, without retrying, when the caller aborts', async (ctx) => {
  const { archive } = await serve(ctx, 'slow.tar', 400_000);
  ctx.server.fault('slow.tar', { chunkDelayMs: 20 });
  const controller = new AbortController();
  const started = Date.now();
  const download = downloadArchive(archive, fast(ctx, { signal: controller.signal }));
  setTimeout(() => controller.abort(new Error('shutting down')), 100);
  try {
    await download;
    assert.unreachable('an aborted download must not succeed');
  } catch (err) {
    assert.is((err as Error).message, 'shutting down');
  }
  assert.ok(Date.now() - started < 1_000, 'no backoff after an abort');
  assert.is(ctx.server.requests.length, 1);
});

test('retries a 503 and completes', async (ctx) => {
  const { data, archive } = await serve(ctx, 'busy.tar', 10_000);
  ctx.server.fault('busy.tar', { status: 503, times: 2 });
  const path = await downloadArchive(archive, fast(ctx));
  assert.ok((await readFile(path)).equals(data));
  assert.equal(ctx.server.requests.map((r) => r.status), [503, 503, 200]);
});

test('does not retry a 404', async (ctx) => {
  const err = await rejection(downloadArchive({ url: ctx.server.url('missing.tar'), sha256: 'b'.repeat(64), size: 10 }, fast(ctx)));
  assert.is(err.code, 'fetch');
  assert.is(err.retry, 'stalled');
  assert.match(err.message, '404');
  assert.is(ctx.server.requests.length, 1);
});

test('gives up after the retries on a refused connection, as a transient fetch error', async (ctx) => {
  const closed = await startFileServer({ root: ctx.root });
  const url = closed.url('gone.tar');
  await closed.close();
  const err = await rejection(downloadArchive({ url, sha256: 'c'.repeat(64), size: 10 }, fast(ctx, { retries: 1 })));
  assert.is(err.code, 'fetch');
  assert.is(err.retry, 'transient');
  assert.match(err.message, 'ECONNREFUSED');
});

test('reuses a finished file without a request', async (ctx) => {
  const { data, archive } = await serve(ctx, 'done.tar', 20_000);
  await writeFile(join(ctx.dir, `${archive.sha256}.tar`), data);
  const path = await downloadArchive(archive, fast(ctx));
  assert.is(path, join(ctx.dir, `${archive.sha256}.tar`));
  assert.is(ctx.server.requests.length, 0);
});

test('downloads again when the finished file on disk no longer matches', async (ctx) => {
  const { data, archive } = await serve(ctx, 'rotten.tar', 20_000);
  await mkdir(ctx.dir, { recursive: true });
  await writeFile(join(ctx.dir, `${archive.sha256}.tar`), randomBytes(20_000));
  const path = await downloadArchive(archive, fast(ctx));
  assert.ok((await readFile(path)).equals(data));
  assert.is(ctx.server.requests.length, 1);
});

test('progressPrinter: one redrawn line on a TTY, a plain line at most every 10% elsewhere', () => {
  const plain = capture(false);
  const printPlain = progressPrinter(plain.stream, 'shop');
  for (let bytes = 0; bytes <= 1000; bytes += 7) printPlain({ url: 'u', bytes, total: 1000 });
  printPlain({ url: 'u', bytes: 1000, total: 1000 });
  const lines = plain.text().trimEnd().split('\n');
  assert.is(lines.length, 11, lines.join('\n'));
  assert.match(lines[0]!, /^shop: 0% /);
  assert.match(lines[10]!, /^shop: 100% /);

  const tty = capture(true);
  const printTty = progressPrinter(tty.stream, 'shop');
  printTty({ url: 'u', bytes: 500, total: 1000 });
  printTty({ url: 'u', bytes: 1000, total: 1000 });
  assert.not.match(tty.text().slice(0, -1), '\n', 'one line, redrawn');
  assert.match(tty.text(), /^\r.*50%.*\r.*100%.*\n$/s);
});

function capture(isTTY: boolean): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  }) as Writable & { isTTY?: boolean };
  stream.isTTY = isTTY;
  return { stream, text: () => out };
}

/** Lets the server notice the client has gone before its log is read. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100));
}

test.run();
