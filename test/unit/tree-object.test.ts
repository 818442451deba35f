import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTreeObject } from '../../agent/src/channel/tree-object.js';
import type { DuckError } from '../../schemas/errors.js';

const BLOB = 'a'.repeat(40);
const TREE = 'b'.repeat(40);

function raw(entries: Array<[mode: string, name: string, oid: string]>): Uint8Array {
  return Buffer.concat(entries.map(([mode, name, oid]) => Buffer.concat([Buffer.from(`${mode} ${name}\0`, 'utf8'), Buffer.from(oid, 'hex')])));
}

test('reads each entry with its mode, name, id and type, a directory as 040000', () => {
  const entries = parseTreeObject(raw([['100644', 'compose.yaml', BLOB], ['40000', 'conf', TREE], ['120000', 'link', BLOB]]), TREE, 'releases/shop/1.0.0');
  assert.equal(entries, [
    { mode: '100644', path: 'compose.yaml', oid: BLOB, type: 'blob' },
    { mode: '040000', path: 'conf', oid: TREE, type: 'tree' },
    { mode: '120000', path: 'link', oid: BLOB, type: 'blob' },
  ]);
});

for (const name of ['..', '.', '', 'a/b', 'a\\b']) {
  test(`refuses an entry named ${JSON.stringify(name)} with unsafe-path, naming its path`, () => {
    const err = (() => {
      try {
        parseTreeObject(raw([['100644', 'ok', BLOB], ['100644', name, BLOB]]), TREE, 'releases/shop');
      } catch (e) {
        return e as DuckError;
      }
      return null;
    })();
    assert.is(err?.code, 'unsafe-path');
    assert.is(err?.data.file, `releases/shop/${name}`);
  });
}

test('refuses a truncated tree with invalid', () => {
  const bytes = raw([['100644', 'compose.yaml', BLOB]]);
  assert.throws(() => parseTreeObject(bytes.subarray(0, bytes.length - 1), TREE, ''), (e: DuckError) => e.code === 'invalid');
});

test.run();
