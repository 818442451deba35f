// A git smart-HTTP server that misbehaves on request: a proxy in front of the real git server
// (examples/harness/git-http-server.ts) that answers the ref advertisement or the upload-pack with
// the real bytes, but slowly, a byte at a time, or not at all after the headers. The fetch
// deadlines (DESIGN §3) are tested against it through the real `duck` CLI, and the conformance
// suite (conformance/README.md) sets a behaviour per repository, so its cases share one server.
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * pass: the upstream's answer as it is. silent-refs: the ref advertisement's headers, then nothing.
 * trickle-refs / trickle-pack: 200, then one byte every `trickleMs`. slow-pack: the pack in
 * `slowChunks` pieces `slowGapMs` apart. pause-pack: nothing for `pauseMs`, then the whole pack.
 * Upload-pack answers that are not git's, each ended cleanly: error-pack: NAK, then a side-band
 * error (band 3, SIDEBAND_ERROR) where the pack would be; half-pack: the first half of the real
 * answer; login-pack: 200 with an HTML sign-in page.
 */
export type HostileMode =
  | 'pass'
  | 'silent-refs'
  | 'trickle-refs'
  | 'trickle-pack'
  | 'slow-pack'
  | 'pause-pack'
  | 'error-pack'
  | 'half-pack'
  | 'login-pack'
  | 'huge-refs';

/** huge-refs mode: this many made-up tags are advertised after the real refs (a few MiB). */
export const HUGE_REFS_COUNT = 50_000;

/**
 * What the server does for one repository (by its path, `name.git`): a mode, another repository's
 * refs and objects in its place (a mirror that serves a rewritten history), and work done once,
 * before the first download is answered (the tip moves between the ref request and the fetch).
 */
export interface RepoBehaviour {
  mode?: HostileMode;
  serveFrom?: string;
  beforePack?: () => Promise<void>;
}

/** What error-pack mode's server says on side-band 3. */
export const SIDEBAND_ERROR = 'upload-pack: not our ref (the repository was pruned)';

const pkt = (data: Buffer): Buffer => Buffer.concat([Buffer.from((data.length + 4).toString(16).padStart(4, '0'), 'latin1'), data]);

export interface HostileGitServer {
  /** The mode of every repository without a behaviour of its own. */
  mode: HostileMode;
  /** Sets (or with undefined, clears) one repository's behaviour. */
  behave(repo: string, behaviour: RepoBehaviour | undefined): void;
  url(repo: string): string;
  close(): Promise<void>;
}

export interface HostileOptions {
  trickleMs?: number;
  slowChunks?: number;
  slowGapMs?: number;
  pauseMs?: number;
}

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export async function startHostileGitServer(upstreamBase: string, opts: HostileOptions = {}): Promise<HostileGitServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const state: { mode: HostileMode } = { mode: 'pass' };
  const behaviours = new Map<string, RepoBehaviour>();

  const server = createServer((req, res) => {
    void (async () => {
      const isPack = req.method === 'POST' && req.url?.endsWith('/git-upload-pack');
      const isRefs = req.method === 'GET' && req.url?.includes('/info/refs');
      const repo = repoOf(req.url ?? '/');
      const behaviour = behaviours.get(repo) ?? {};
      const mode = behaviour.mode ?? state.mode;
      if (isPack && behaviour.beforePack) {
        const work = behaviour.beforePack;
        delete behaviour.beforePack;
        await work();
      }
      const path = behaviour.serveFrom ? (req.url ?? '/').replace(`/${repo}/`, `/${behaviour.serveFrom}/`) : req.url;
      const upstream = await forward(upstreamBase, req, path ?? '/');
      const headers = { ...upstream.headers };
      delete headers['content-length'];
      delete headers['transfer-encoding'];
      if (mode === 'login-pack' && isPack) {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        return res.end('<html><body>Sign in to continue</body></html>');
      }
      res.writeHead(upstream.status, headers);
      if (mode === 'error-pack' && isPack) {
        return res.end(Buffer.concat([pkt(Buffer.from('NAK\n')), pkt(Buffer.concat([Buffer.from([3]), Buffer.from(`${SIDEBAND_ERROR}\n`)]))]));
      }
      if (mode === 'half-pack' && isPack) return res.end(upstream.body.subarray(0, Math.floor(upstream.body.length / 2)));
      if (mode === 'silent-refs' && isRefs) return res.flushHeaders();
      if (mode === 'huge-refs' && isRefs) return res.end(withMadeUpRefs(upstream.body, HUGE_REFS_COUNT));
      if ((mode === 'trickle-refs' && isRefs) || (mode === 'trickle-pack' && isPack)) return pace(res, upstream.body, 1, opts.trickleMs ?? 100);
      if (mode === 'slow-pack' && isPack) {
        const chunks = opts.slowChunks ?? 8;
        return pace(res, upstream.body, Math.ceil(upstream.body.length / chunks), opts.slowGapMs ?? 300);
      }
      if (mode === 'pause-pack' && isPack) {
        res.flushHeaders();
        return later(() => res.end(upstream.body), opts.pauseMs ?? 6000);
      }
      res.end(upstream.body);
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const later = (fn: () => void, ms: number): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  /** Writes `body` `size` bytes at a time, `gapMs` apart, until it is sent or the client left. */
  const pace = (res: ServerResponse, body: Buffer, size: number, gapMs: number): void => {
    res.flushHeaders();
    let sent = 0;
    const step = (): void => {
      if (res.destroyed) return;
      res.write(body.subarray(sent, sent + size));
      sent += size;
      if (sent >= body.length) res.end();
      else later(step, gapMs);
    };
    later(step, gapMs);
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    get mode() {
      return state.mode;
    },
    set mode(m: HostileMode) {
      state.mode = m;
    },
    behave: (repo, behaviour) => {
      const key = repo.replace(/^\/+/, '');
      if (behaviour) behaviours.set(key, { ...behaviour });
      else behaviours.delete(key);
    },
    url: (repo) => `http://127.0.0.1:${port}/${repo.replace(/^\/+/, '')}`,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** The repository a request is for: the path up to and including its `.git` segment. */
function repoOf(url: string): string {
  const path = new URL(url, 'http://localhost').pathname.replace(/^\/+/, '');
  const end = path.indexOf('.git/');
  return end < 0 ? path : path.slice(0, end + '.git'.length);
}

/**
 * A v1 ref advertisement with `count` made-up tags before its closing flush: a server with a huge
 * number of refs, most of which the client never asked about.
 */
function withMadeUpRefs(advertisement: Buffer, count: number): Buffer {
  const end = advertisement.lastIndexOf('0000');
  if (end < 0) return advertisement;
  const made = Array.from({ length: count }, (_, i) => pkt(Buffer.from(`${(i + 1).toString(16).padStart(40, '0')} refs/tags/made-up-${i}\n`)));
  return Buffer.concat([advertisement.subarray(0, end), ...made, advertisement.subarray(end)]);
}

/** The upstream's whole answer to the same request (at `path`, the request's own unless given). */
async function forward(base: string, req: IncomingMessage, path: string): Promise<Upstream> {
  const body: Buffer[] = [];
  for await (const chunk of req) body.push(chunk as Buffer);
  const target = new URL(path, base);
  const headers = { ...req.headers };
  delete headers.host;
  return new Promise<Upstream>((resolve, reject) => {
    const out = request(target, { method: req.method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    out.on('error', reject);
    out.end(Buffer.concat(body));
  });
}
