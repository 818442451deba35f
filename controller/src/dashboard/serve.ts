import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Middleware } from 'koa';
import { packageRoot } from '../package-root.js';

/**
 * The dashboard's static files: plain HTML, CSS and ES modules, no build step. They live in
 * `controller/src/dashboard/public/`, found from the package root, because tsc copies no non-TS
 * file into dist/: the same path serves whether the controller runs from source or from dist/.
 */
const ASSETS_FROM_ROOT = ['controller', 'src', 'dashboard', 'public'];

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Nothing inline may run: hostnames, reasons and refusal messages come from agents, so a markup
 * slip must not become script. Styles set through the CSSOM (bar widths) are not inline styles.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function dashboardAssetsDir(fromUrl: string = import.meta.url): string {
  return join(packageRoot(fromUrl), ...ASSETS_FROM_ROOT);
}

interface Asset {
  file: string;
  type: string;
}

/**
 * The URL paths served, fixed when the controller starts. A request names one of these or falls
 * through: no request path is ever joined to a directory, so `..` and encoded tricks have nothing
 * to reach.
 */
function listAssets(dir: string): Map<string, Asset> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new Error(`the dashboard's files are missing: cannot read ${dir} (${(err as Error).message})`, { cause: err });
  }
  const assets = new Map<string, Asset>();
  for (const name of names) {
    const type = CONTENT_TYPES[extname(name)];
    if (type !== undefined) assets.set(`/${name}`, { file: join(dir, name), type });
  }
  if (!assets.has('/index.html')) throw new Error(`the dashboard's index.html is missing from ${dir}`);
  assets.set('/', assets.get('/index.html') as Asset);
  return assets;
}

/** Serves the dashboard page and its assets; mounted after the API routes, it passes on anything else. */
export function serveDashboard(assetsDir: string = dashboardAssetsDir()): Middleware {
  const assets = listAssets(assetsDir);
  return async (ctx, next) => {
    const asset = ctx.method === 'GET' || ctx.method === 'HEAD' ? assets.get(ctx.path) : undefined;
    if (asset === undefined) return next();
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    // Revalidate every time: after a controller upgrade the page and its modules must match.
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = asset.type;
    ctx.body = await readFile(asset.file);
  };
}
