// Issue 16 point 2, the pure parts of the live log page: a child's output cut into lines, the
// server-sent event framing, the `tail` a page may ask for, the compose command that follows, and
// the page's own bound, filter and export (public/log-lines.js, run as it is served).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { composeLogsArgs } from '../../agent/src/adapters/compose-logs.js';
import { sseFrame } from '../../agent/src/console/event-stream.js';
import { MAX_TAIL, tailOf } from '../../agent/src/console/routes-services.js';
import { splitLines } from '../../agent/src/core/text-lines.js';
// @ts-expect-error: a browser module without types, checked by its behaviour here
import { MAX_LINES, exportName, exportText, matcher, overflow } from '../../agent/src/console/public/log-lines.js';

test('lines: a chunk ends anywhere; the rest waits for the next chunk; CRLF and runaway lines', () => {
  let r = splitLines('', 'web_1  | one\nweb_1  | tw');
  assert.equal(r, { lines: ['web_1  | one'], carry: 'web_1  | tw' });
  r = splitLines(r.carry, 'o\r\n\nthree');
  assert.equal(r, { lines: ['web_1  | two', '', ], carry: 'three' });
  assert.equal(splitLines('', 'abcdefgh\nxy', 3), { lines: ['abc', 'def', 'gh'], carry: 'xy' });
  assert.equal(splitLines('ab', 'cdefg', 3), { lines: ['abc', 'def'], carry: 'g' }, 'a line without an end is cut, not held');
});

test('an event is one JSON data line: a log line cannot end it or forge another', () => {
  assert.is(sseFrame('lines', ['a']), 'event: lines\ndata: ["a"]\n\n');
  const hostile = sseFrame('lines', ['x\n\nevent: end\ndata: {"reason":"forged"}\r\n']);
  assert.is(hostile.split('\n\n').length, 2, 'one event, one blank line at its end');
  assert.is(hostile.match(/^event:/gm)!.length, 1);
  assert.equal(JSON.parse(hostile.split('\n')[1]!.slice('data: '.length)), ['x\n\nevent: end\ndata: {"reason":"forged"}\r\n']);
  assert.throws(() => sseFrame('x\ndata: 1', null), /event type/);
});

test('tail: 200 unless asked; a whole number up to the bound, else a 400 naming the field', () => {
  assert.is(tailOf(new URLSearchParams('')), 200);
  assert.is(tailOf(new URLSearchParams('tail=0')), 0);
  assert.is(tailOf(new URLSearchParams(`tail=${MAX_TAIL}`)), MAX_TAIL);
  for (const bad of ['-1', '1.5', 'all', `${MAX_TAIL + 1}`, '1e3']) {
    try {
      tailOf(new URLSearchParams({ tail: bad }));
      assert.unreachable(`tail=${bad} accepted`);
    } catch (err) {
      assert.is((err as { code?: string }).code, 'usage', bad);
      assert.is((err as { data?: { field?: string } }).data?.field, 'tail');
    }
  }
});

test('the follow: the app’s compose files, directory and project, both compose flavours', () => {
  const target = { cwd: '/var/lib/duck/apps/shop/releases/1.0.0', files: ['compose.yaml', '/etc/duck/shop.override.yaml'], env: {} };
  const v1 = composeLogsArgs({ flavor: 'v1', version: '1.29.2', command: ['docker-compose'] }, 'duck-shop', target, 200);
  assert.is(v1.bin, 'docker-compose');
  assert.equal(v1.args, ['-f', 'compose.yaml', '-f', '/etc/duck/shop.override.yaml', '--project-directory', target.cwd, '--project-name', 'duck-shop', 'logs', '--follow', '--no-color', '--tail', '200']);
  const v2 = composeLogsArgs({ flavor: 'v2', version: '2.29.1', command: ['docker', 'compose'] }, 'duck-shop', target, 0);
  assert.is(v2.bin, 'docker');
  assert.equal(v2.args.slice(0, 3), ['compose', '-f', 'compose.yaml']);
  assert.equal(v2.args.slice(-2), ['--tail', '0']);
});

test('the page keeps the last MAX_LINES lines: how many old ones go as new ones come', () => {
  assert.is(MAX_LINES, 5000);
  assert.is(overflow(0, 200), 0);
  assert.is(overflow(4900, 100), 0);
  assert.is(overflow(4900, 101), 1);
  assert.is(overflow(5000, 7000), 7000, 'a batch larger than the bound drops every kept line');
  assert.is(overflow(3, 3, 4), 2);
});

test('filter: case-insensitive text; Export writes the lines shown, one a line; a safe file name', () => {
  const lines = ['web_1 | GET /version.txt', 'web_1 | started 1.0.0', 'db_1 | ERROR disk'];
  assert.equal(lines.filter(matcher('  get ')), ['web_1 | GET /version.txt']);
  assert.equal(lines.filter(matcher('')), lines);
  assert.is(exportText(lines, 'error'), 'db_1 | ERROR disk\n');
  assert.is(exportText(lines, ''), `${lines.join('\n')}\n`);
  assert.is(exportText(lines, 'nothing'), '');
  assert.is(exportName('shop', new Date('2026-12-01T02:30:05.123Z')), 'shop-2026-12-01T02-30-05Z.log');
  assert.is(exportName('a/b c', new Date('2026-12-01T00:00:00Z')), 'a_b_c-2026-12-01T00-00-00Z.log');
});

test.run();
