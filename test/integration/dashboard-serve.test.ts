// The dashboard's static files over real HTTP: content types, a CSP that allows no inline script,
// every module the page imports served, nothing outside the assets folder reachable, and the same
// folder found from source and from dist/.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Koa from 'koa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CONTENT_SECURITY_POLICY, dashboardAssetsDir, serveDashboard } from '../../controller/src/dashboard/serve.js';
import { packageRoot } from '../../controller/src/package-root.js';

interface Ctx {
  server: Server;
  port: number;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw request, so the path reaches the server exactly as written (fetch would resolve `..`). */
function get(port: number, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const it = suite<Ctx>('dashboard static files', {} as Ctx);

it.before(async (ctx) => {
  const app = new Koa();
  app.use(serveDashboard());
  ctx.server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => ctx.server.once('listening', resolve));
  ctx.port = (ctx.server.address() as AddressInfo).port;
});

it.after(async (ctx) => {
  ctx.server.closeAllConnections();
  await new Promise((resolve) => ctx.server.close(resolve));
});

it('serves the page at / as HTML under a CSP that allows no inline script or style', async (ctx) => {
  const res = await get(ctx.port, '/');
  assert.is(res.status, 200);
  assert.is(res.headers['content-type'], 'text/html; charset=utf-8');
  assert.is(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
  assert.match(CONTENT_SECURITY_POLICY, "script-src 'self'");
  assert.not.match(CONTENT_SECURITY_POLICY, 'unsafe-inline');
  assert.not.match(CONTENT_SECURITY_POLICY, 'unsafe-eval');
  assert.is(res.headers['x-content-type-options'], 'nosniff');
  assert.match(res.body, '<script type="module" src="/app.js"></script>');
});

it('the page carries no inline script and no inline event handler', async (ctx) => {
  const { body } = await get(ctx.port, '/');
  const scripts = body.match(/<script\b[^>]*>/g) ?? [];
  assert.ok(scripts.length > 0);
  for (const tag of scripts) assert.match(tag, /\ssrc="\/[a-z-]+\.js"/);
  assert.not.match(body, /\son[a-z]+\s*=/i);
  assert.not.match(body, /\sstyle\s*=/i);
});

it('serves each kind of asset with its content type', async (ctx) => {
  const expected: Record<string, string> = {
    '/app.js': 'text/javascript; charset=utf-8',
    '/style.css': 'text/css; charset=utf-8',
    '/favicon.svg': 'image/svg+xml',
    '/index.html': 'text/html; charset=utf-8',
  };
  for (const [path, type] of Object.entries(expected)) {
    const res = await get(ctx.port, path);
    assert.is(res.status, 200, path);
    assert.is(res.headers['content-type'], type, path);
  }
});

it('serves every module the page imports, so it runs with no build step', async (ctx) => {
  const seen = new Set<string>();
  const pending = ['/app.js'];
  while (pending.length > 0) {
    const path = pending.pop() as string;
    if (seen.has(path)) continue;
    seen.add(path);
    const res = await get(ctx.port, path);
    assert.is(res.status, 200, `${path} is imported but not served`);
    assert.is(res.headers['content-type'], 'text/javascript; charset=utf-8', path);
    for (const [, spec] of res.body.matchAll(/\bfrom '([^']+)'/g)) {
      assert.match(spec as string, /^\.\/[a-z-]+\.js$/, `${path} imports ${spec}: only sibling modules exist in the browser`);
      pending.push((spec as string).slice(1));
    }
  }
  const onDisk = (await readdir(dashboardAssetsDir())).filter((n) => n.endsWith('.js'));
  assert.equal([...seen].map((p) => p.slice(1)).sort(), onDisk.sort(), 'every module on disk is reachable from app.js');
});

it('reaches nothing outside the assets folder, however the path is written', async (ctx) => {
  const attempts = [
    '/../package.json',
    '/%2e%2e/package.json',
    '/..%2fpackage.json',
    '/%2e%2e%2f%2e%2e%2fpackage.json',
    '/../serve.ts',
    '/public/app.js',
    '//etc/passwd',
    '/app.js/',
    '/APP.JS',
  ];
  for (const path of attempts) {
    const res = await get(ctx.port, path);
    assert.is(res.status, 404, path);
    assert.not.match(res.body, '"name": "duck"', path);
  }
});

it('passes on any method but GET and HEAD', async (ctx) => {
  assert.is((await get(ctx.port, '/', 'POST')).status, 404);
  const head = await get(ctx.port, '/app.js', 'HEAD');
  assert.is(head.status, 200);
  assert.is(head.body, '');
});

it('finds the same assets folder from the built dist/ as from source', async () => {
  const root = packageRoot(import.meta.url);
  const fromSource = dashboardAssetsDir(pathToFileURL(join(root, 'controller', 'src', 'dashboard', 'serve.ts')).href);
  const fromDist = dashboardAssetsDir(pathToFileURL(join(root, 'dist', 'controller', 'src', 'dashboard', 'serve.js')).href);
  assert.is(fromDist, fromSource);
  assert.is(fromSource, join(root, 'controller', 'src', 'dashboard', 'public'));
  assert.match(await readFile(join(fromDist, 'index.html'), 'utf8'), '<!doctype html>');
});

it('refuses to start without its files, naming the folder', () => {
  assert.throws(() => serveDashboard('/nonexistent/duck-dashboard'), /dashboard's files are missing: cannot read \/nonexistent\/duck-dashboard/);
});

it.run();
