// The operator's overlay edits (DESIGN §4.1, §4.6): each changes what it must and leaves the
// operator's comments, key order and formatting alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Document } from 'yaml';
import { parse } from 'yaml';
import {
  editYamlText,
  invalidName,
  isCalendarDate,
  parseInstant,
  removeHold,
  removePin,
  removeSchedule,
  setHold,
  setPin,
  setSchedule,
} from '../../agent/src/core/overlay-edits.js';

// Hand-written, as operators write: aligned comments, tight flow lists, a 4-space block, two blank lines.
const OVERLAY = `# Overlay of node shop-7 (ticket OPS-1234).
# Edited by hand and by duck pin.

pin:      # versions this node runs whatever the group says
  # shop stays on 1.2 for the audit
  shop: 1.2.0   # until Q3
  web: "2.0.0"

approval: manual                                        # changes wait for duck upgrade
windows: [ { days: [mon-fri], start: "23:00", duration: 4h } ]  # the group's are too early
schedule:
    web:
        at: 2026-11-25T02:00:00+08:00


compose: { shop: { env: { PORT: "8081" } } }   # local port
# end of overlay
`;

function edit(text: string, change: (doc: Document) => void): string {
  return editYamlText(text, change).text;
}

/** The lines of `after` that are not in `before`, and those of `before` no longer in `after`. */
function lineDiff(before: string, after: string): { added: string[]; removed: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  return { added: b.filter((l) => !a.includes(l)), removed: a.filter((l) => !b.includes(l)) };
}

test('a pin added to an existing pin map keeps the comments above and beside the other keys', () => {
  const after = edit(OVERLAY, (doc) => setPin(doc, 'api', '3.1.0'));
  assert.equal(lineDiff(OVERLAY, after), { added: ['  api: 3.1.0'], removed: [] });
  assert.match(after, / {2}web: "2.0.0"\n {2}api: 3.1.0\n\napproval/);
  assert.equal(parse(after).pin, { shop: '1.2.0', web: '2.0.0', api: '3.1.0' });
});

test('re-pinning an app changes only its line and keeps its trailing comment', () => {
  const after = edit(OVERLAY, (doc) => setPin(doc, 'shop', '1.3.0'));
  const { added, removed } = lineDiff(OVERLAY, after);
  assert.equal(removed, ['  shop: 1.2.0   # until Q3']);
  assert.is(added.length, 1);
  assert.match(added[0] ?? '', /^ {2}shop: 1\.3\.0 +# until Q3$/);
});

test('a pinned version that reads as a number in YAML is quoted, so it stays a string', () => {
  const after = edit(OVERLAY, (doc) => setPin(doc, 'api', '1.10'));
  assert.is(parse(after).pin.api, '1.10');
});

test('setPin returns the version it replaced', () => {
  let previous: string | undefined = 'unset';
  edit(OVERLAY, (doc) => (previous = setPin(doc, 'shop', '1.3.0')));
  assert.is(previous, '1.2.0');
  edit(OVERLAY, (doc) => (previous = setPin(doc, 'api', '1.0.0')));
  assert.is(previous, undefined);
});

test('unpinning one of two apps keeps the other and its comments', () => {
  const after = edit(OVERLAY, (doc) => removePin(doc, 'web'));
  assert.equal(lineDiff(OVERLAY, after), { added: [], removed: ['  web: "2.0.0"'] });
});

test('unpinning the last pin removes the pin key', () => {
  const text = '# node overlay\npin:\n  shop: 1.2.0   # audit\napproval: manual   # by hand\n';
  let previous: string | undefined;
  const after = edit(text, (doc) => (previous = removePin(doc, 'shop')));
  assert.is(previous, '1.2.0');
  assert.is(after, '# node overlay\napproval: manual   # by hand\n', 'the header comment above the removed first key stays');
  assert.equal(parse(after), { approval: 'manual' });
});

test('unpinning the only key leaves the comments, an empty overlay', () => {
  const after = edit('# node overlay\npin: { shop: 1.2.0 }\n', (doc) => removePin(doc, 'shop'));
  assert.is(after, '# node overlay\n');
  assert.is(parse(after), null);
});

test('unpinning an app that is not pinned changes nothing, byte for byte', () => {
  let previous: string | undefined = 'unset';
  assert.is(
    edit(OVERLAY, (doc) => (previous = removePin(doc, 'nope'))),
    OVERLAY,
  );
  assert.is(previous, undefined);
});

test('hold then unhold leaves the document as it was, byte for byte', () => {
  const held = edit(OVERLAY, (doc) => setHold(doc, 'quarter-end freeze', '2026-12-31'));
  assert.equal(parse(held).hold, { reason: 'quarter-end freeze', until: '2026-12-31' });
  assert.equal(lineDiff(OVERLAY, held).removed, []);
  let removed: unknown;
  const after = edit(held, (doc) => (removed = removeHold(doc)));
  assert.equal(removed, { reason: 'quarter-end freeze', until: '2026-12-31' });
  assert.is(after, OVERLAY);
});

test('hold then unhold round trips an empty, a comment-only and a CRLF file too', () => {
  for (const text of ['', '# overlay\n', '# a\n\n# b\n', 'pin:\r\n  shop: 1.0.0   # c\r\n']) {
    const held = edit(text, (doc) => setHold(doc, 'freeze'));
    assert.equal(parse(held).hold, { reason: 'freeze' }, JSON.stringify(text));
    assert.is(edit(held, (doc) => removeHold(doc)), text, JSON.stringify(text));
  }
});

test('a new hold replaces the old one whole, in its place and style', () => {
  const text = 'hold: { reason: audit, until: 2026-12-31 }   # ops\npin: { shop: 1.0.0 }\n';
  let previous: unknown;
  const after = edit(text, (doc) => (previous = setHold(doc, 'freeze')));
  assert.equal(previous, { reason: 'audit', until: '2026-12-31' });
  assert.match(after, /^hold: \{ reason: freeze \} +# ops\npin: \{ shop: 1\.0\.0 \}\n$/);
});

test('a long hold reason stays on one line', () => {
  const reason = 'held by alice on 2026-11-23: waiting for the database migration window agreed with finance';
  const after = edit('', (doc) => setHold(doc, reason));
  assert.is(after, `hold:\n  reason: "${reason}"\n`);
});

test('schedule and cancel round trip, matching the operator\'s indentation', () => {
  let previous: string | undefined = 'unset';
  const scheduled = edit(OVERLAY, (doc) => (previous = setSchedule(doc, 'shop', '2026-12-01T02:00:00Z')));
  assert.is(previous, undefined);
  assert.equal(lineDiff(OVERLAY, scheduled).added, ['    shop:', '        at: 2026-12-01T02:00:00Z']);
  const after = edit(scheduled, (doc) => (previous = removeSchedule(doc, 'shop')));
  assert.is(previous, '2026-12-01T02:00:00Z');
  assert.is(after, OVERLAY);
});

test('cancelling the last schedule removes the schedule key', () => {
  const after = edit(OVERLAY, (doc) => removeSchedule(doc, 'web'));
  assert.not.match(after, /schedule/);
  assert.equal(lineDiff(OVERLAY, after).removed, ['schedule:', '    web:', '        at: 2026-11-25T02:00:00+08:00']);
});

test('an edit of a missing file starts a plain block-style overlay', () => {
  assert.is(
    edit('', (doc) => setPin(doc, 'shop', '1.0.0')),
    'pin:\n  shop: 1.0.0\n',
  );
});

test('an indentation the merge cannot follow still yields the edited overlay', () => {
  const text = 'pin:\n   shop: 1.0.0  # three spaces\nschedule:\n     web:\n       at: 2026-11-25T02:00:00Z\n';
  const after = edit(text, (doc) => setSchedule(doc, 'api', '2026-12-01T00:00:00Z'));
  assert.equal(parse(after), {
    pin: { shop: '1.0.0' },
    schedule: { web: { at: '2026-11-25T02:00:00Z' }, api: { at: '2026-12-01T00:00:00Z' } },
  });
  assert.match(after, /# three spaces/);
});

test('operator times: RFC 3339 date-times need an offset and must exist', () => {
  const table: [string, string | null][] = [
    ['2026-11-25T02:00:00+08:00', '2026-11-24T18:00:00.000Z'],
    ['2026-11-24T18:00:00Z', '2026-11-24T18:00:00.000Z'],
    ['2026-11-24t18:00:00.5z', '2026-11-24T18:00:00.500Z'],
    ['2026-11-25T02:00:00', null],
    ['2026-11-25', null],
    ['2026-02-30T00:00:00Z', null],
    ['2026-12-31T23:59:60Z', null],
    ['2026-11-25T24:00:00Z', null],
    ['2026-11-25T02:00:00+25:00', null],
    ['tomorrow', null],
  ];
  for (const [text, iso] of table) assert.is(parseInstant(text)?.toISOString() ?? null, iso, text);
  assert.ok(isCalendarDate('2028-02-29'));
  assert.not.ok(isCalendarDate('2026-02-29'));
  assert.not.ok(isCalendarDate('2026-12-31T00:00:00Z'));
});

test('app names and versions are checked before they reach a path', () => {
  assert.is(invalidName('app', 'shop'), null);
  assert.is(invalidName('version', '1.2.0+build.7'), null);
  assert.match(invalidName('app', 'Shop') ?? '', /^app "Shop" must be a lowercase name/);
  assert.match(invalidName('version', '../1.0') ?? '', /^version "..\/1.0" must be a version/);
});

test.run();
