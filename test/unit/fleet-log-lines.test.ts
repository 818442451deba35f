// The embedded store's log lines read back (pure): what a kill can leave at the end is dropped,
// a bad line before it is damage named by file and line; compaction keeps lines by their number.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseLines } from '../../controller/src/store/append-log.js';
import { linesAfter } from '../../controller/src/store/embedded-fleet-store.js';
import { logLine } from '../../controller/src/store/fleet-log.js';

const lines = (...texts: string[]): Buffer => Buffer.from(texts.join(''), 'utf8');

test('whole lines are read; what follows the last newline is torn, even a whole JSON text', () => {
  for (const [tail, torn] of [['', 0], ['{"s":3,"k":"rel', 15], ['{"s":3,"k":"release","id":"x"}', 30]] as const) {
    const read = parseLines('f.log', lines('{"s":1}\n', '{"s":2}\n', tail));
    assert.equal([read.entries, read.size, read.torn], [[{ s: 1 }, { s: 2 }], 16, torn], tail);
  }
});

test('a bad line before the last newline is damage: the error names the file and line', () => {
  assert.throws(() => parseLines('/data/events-1.log', lines('{"s":1}\n', '{"s": oops\n', '{"s":3}\n')), (err: Error) => err.message.startsWith('/data/events-1.log: line 2 is not valid JSON'));
});

test('linesAfter keeps the lines numbered after a change, byte for byte', () => {
  const log = lines(...[8, 9, 10, 11].map((s) => logLine({ s, k: 'release', id: `a-${s}` })));
  assert.is(linesAfter(log, 9).toString('utf8'), logLine({ s: 10, k: 'release', id: 'a-10' }) + logLine({ s: 11, k: 'release', id: 'a-11' }));
  assert.is(linesAfter(log, 11).length, 0);
});

test.run();
