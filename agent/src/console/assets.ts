import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckError } from '../../../schemas/errors.js';

/** The page's files, at the same place from the package root in a checkout, dist/ and a build. */
export const ASSETS_FROM_ROOT = ['agent', 'src', 'console', 'public'];

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** Found upwards from this module: tsc copies no non-TS file into dist/, and the bundle sits elsewhere. */
export function consoleAssetsDir(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, ...ASSETS_FROM_ROOT);
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(dir) === dir) throw new DuckError('config', `${ASSETS_FROM_ROOT.join('/')}/ not found above ${from}: is the Duck package complete?`);
  }
}

/**
 * The URL paths served, read once when the console starts (a handful of small files): a request
 * names one of these or is not served, so no request path is ever joined to a directory.
 */
export function loadAssets(dir: string = consoleAssetsDir()): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  const add = (sub: string): void => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = sub === '' ? entry.name : `${sub}/${entry.name}`;
      if (entry.isDirectory()) add(rel);
      const type = CONTENT_TYPES[extname(entry.name)];
      if (entry.isFile() && type !== undefined) assets.set(`/${rel}`, { type, body: readFileSync(join(dir, rel)) });
    }
  };
  add('');
  const index = assets.get('/index.html');
  if (!index) throw new DuckError('config', `the console's index.html is missing from ${dir}`);
  // The login link lands on /login; the shell reads its fragment.
  assets.set('/', index);
  assets.set('/login', index);
  return assets;
}
