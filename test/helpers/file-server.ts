// A tiny HTTP file server on loopback for download tests: files from a directory, Range requests,
// a log of every request, and faults a real link shows (a dropped connection, a server that ignores
// Range or lies about the length, an error status) — so the downloader meets real sockets, not a mock.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, normalize, sep } from 'node:path';

export interface FileServerRequest {
  method: string;
  /** The URL path, without the query. */
  path: string;
  /** The Range header, when the client sent one. */
  range?: string;
  /** Set when the response head is written; 0 until then. */
  status: number;
  /** Body bytes written to the socket (headers excluded). */
  bytesOut: number;
  /** The file's whole length (0 for an error response). */
  fileBytes: number;
  /** True when the whole response body was written. */
  complete: boolean;
  /** Set when a `dropAfterBytes` fault cut the connection. */
  dropped?: boolean;
}

export interface FileServerFault {
  /** Answer with this status and a short text body instead of the file. */
  status?: number;
  /** Write this many body bytes, then destroy the connection. */
  dropAfterBytes?: number;
  /** Answer every request with the whole file (200), as a server without Range support does. */
  ignoreRange?: boolean;
  /** Send no Content-Length (chunked): the client learns the length only by reading. */
  omitLength?: boolean;
  /** Wait this long between 16 KiB chunks, so a test can tell how much was sent before the client left. */
  chunkDelayMs?: number;
  /** Apply to this many requests for the path, then stop; default every request. */
  times?: number;
}

export interface FileServer {
  readonly baseUrl: string;
  /** The URL of `path` (relative to the root, "/"-separated). */
  url(path: string): string;
  readonly requests: FileServerRequest[];
  /** The requests for one path. */
  requestsFor(path: string): FileServerRequest[];
  /** Set (replacing) the fault for a path. */
  fault(path: string, fault: FileServerFault): void;
  clearFaults(): void;
  resetLog(): void;
  close(): Promise<void>;
}

const CHUNK = 16 * 1024;

/** Serves the files under `root` on 127.0.0.1 (an ephemeral port). */
export async function startFileServer(opts: { root: string }): Promise<FileServer> {
  const requests: FileServerRequest[] = [];
  const faults = new Map<string, FileServerFault>();
  const sockets = new Set<Socket>();

  const takeFault = (path: string): FileServerFault => {
    const fault = faults.get(path);
    if (!fault) return {};
    if (fault.times !== undefined) {
      if (fault.times <= 1) faults.delete(path);
      else faults.set(path, { ...fault, times: fault.times - 1 });
    }
    return fault;
  };

  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const entry: FileServerRequest = { method: req.method ?? 'GET', path, status: 0, bytesOut: 0, fileBytes: 0, complete: false };
    if (req.headers.range !== undefined) entry.range = req.headers.range;
    requests.push(entry);
    handle(req, res, entry, takeFault(path), opts.root).catch((err: unknown) => {
      if (!res.headersSent) {
        entry.status = 500;
        res.writeHead(500).end(String(err));
      } else {
        res.destroy();
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    url: (path) => `${baseUrl}/${path.replace(/^\/+/, '').split('/').map(encodeURIComponent).join('/')}`,
    requests,
    requestsFor: (path) => requests.filter((r) => r.path === `/${path.replace(/^\/+/, '')}`),
    fault: (path, fault) => faults.set(`/${path.replace(/^\/+/, '')}`, fault),
    clearFaults: () => faults.clear(),
    resetLog: () => requests.splice(0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, entry: FileServerRequest, fault: FileServerFault, root: string): Promise<void> {
  const head = (status: number, headers: Record<string, string | number> = {}): void => {
    entry.status = status;
    res.writeHead(status, headers);
  };
  if (fault.status !== undefined) {
    head(fault.status, { 'Content-Type': 'text/plain' });
    res.end(`fault: status ${fault.status}\n`);
    return;
  }
  const file = join(root, normalize(entry.path));
  if (!file.startsWith(root.endsWith(sep) ? root : root + sep)) {
    head(403);
    res.end();
    return;
  }
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch {
    head(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
    return;
  }
  entry.fileBytes = data.length;

  let start = 0;
  let end = data.length; // exclusive
  let status = 200;
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (range && !fault.ignoreRange) {
    start = Number(range[1]);
    if (range[2]) end = Math.min(end, Number(range[2]) + 1);
    if (start >= data.length || start >= end) {
      head(416, { 'Content-Range': `bytes */${data.length}` });
      res.end();
      return;
    }
    status = 206;
  }
  const headers: Record<string, string | number> = { 'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes' };
  if (!fault.omitLength) headers['Content-Length'] = end - start;
  if (status === 206) headers['Content-Range'] = `bytes ${start}-${end - 1}/${data.length}`;
  head(status, headers);
  if (req.method === 'HEAD') {
    res.end();
    entry.complete = true;
    return;
  }

  const body = data.subarray(start, end);
  let closed = false;
  res.on('close', () => (closed = true));
  const limit = fault.dropAfterBytes ?? Number.POSITIVE_INFINITY;
  for (let offset = 0; offset < body.length && !closed; offset += CHUNK) {
    const chunk = body.subarray(offset, Math.min(offset + CHUNK, body.length, limit));
    if (chunk.length === 0) break;
    // Count only what the socket took: a client that left stops the loop at the next chunk.
    await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
    if (closed) break;
    entry.bytesOut += chunk.length;
    if (entry.bytesOut >= limit) {
      entry.dropped = true;
      res.destroy();
      return;
    }
    if (fault.chunkDelayMs) await new Promise((resolve) => setTimeout(resolve, fault.chunkDelayMs));
  }
  if (closed) return;
  entry.complete = true;
  res.end();
}
