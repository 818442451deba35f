// The demo and the tests share examples/harness/ and import nothing of each other, so a change to a
// test helper cannot break `npm run demo`, nor a demo stage a test helper. (test/e2e/demo.test.ts
// runs the demo: a test may import the demo it checks, a helper may not.)
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

function sourcesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** `file -> target` for each relative import of a file under one of `dirs` whose target is under `banned`. */
function crossings(dirs: string[], banned: string): string[] {
  return dirs.flatMap(sourcesUnder).flatMap((file) =>
    [...readFileSync(join(ROOT, file), 'utf8').matchAll(SPECIFIER)]
      .map((m) => relative(ROOT, resolve(ROOT, dirname(file), m[1]!)))
      .filter((target) => target.startsWith(`${banned}/`))
      .map((target) => `${file} -> ${target}`),
  );
}

test('nothing under examples/ imports from test/', () => {
  assert.equal(crossings(['examples'], 'test'), []);
});

test('the test helpers and the harness import nothing from examples/demo/', () => {
  assert.equal(crossings(['test/helpers', 'examples/harness'], 'examples/demo'), []);
});

test('the check sees a crossing: the demo test imports the demo it runs', () => {
  assert.ok(crossings(['test/e2e'], 'examples/demo').length > 0);
});

test.run();
