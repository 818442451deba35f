// The console's overlay edits (issue 16 point 2): what a page's JSON asks for is checked as the
// CLI's flags are; approval, windows and compose overrides are edited keeping the operator's
// comments; and a picker's wall time becomes the RFC 3339 time, with the node zone's offset, the
// overlay needs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { DuckError } from '../../schemas/errors.js';
import { editYamlText, setCompose, setOverlayKey } from '../../agent/src/core/overlay-edits.js';
import { holdUntilProblem, scheduleAtProblem } from '../../agent/src/core/overlay-times.js';
import { pageOverlayEdit } from '../../agent/src/console/routes-overlay.js';

// @ts-expect-error -- the page's own plain ES module: no build step, so no types
import { formatInZone, wallTimeOf, wallTimeToInstant } from '../../agent/src/console/public/node-time.js';

const NOW = new Date('2026-12-01T10:00:00Z');

const OVERLAY = `# node shop-7
approval: auto   # ops decides
# the port, agreed with networking
compose:
  shop:
    env:
      PORT: "8081"   # not 8080
# end
`;

function refusal(body: unknown): DuckError {
  try {
    pageOverlayEdit(body, NOW, 'UTC');
  } catch (err) {
    assert.instance(err, DuckError);
    return err as DuckError;
  }
  throw new Error(`${JSON.stringify(body)} was not refused`);
}

test('a page edit names the field it refuses: kind, app, version, reason, times', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{ edit: 'purge' }, 'edit', /must be one of pin, unpin/],
    [{ edit: 'pin', app: '../etc', version: '1.0.0' }, 'app', /app "\.\.\/etc"/],
    [{ edit: 'pin', app: 'shop', version: '' }, 'version', /non-empty/],
    [{ edit: 'hold', reason: ' ' }, 'reason', /non-empty/],
    [{ edit: 'hold', reason: 'freeze', until: '2026-02-30' }, 'until', /not a date like/],
    [{ edit: 'hold', reason: 'freeze', until: '2026-11-30' }, 'until', /already past/],
    [{ edit: 'schedule', app: 'shop', at: '2026-12-05T02:00' }, 'at', /has no offset/],
    [{ edit: 'schedule', app: 'shop', at: '2026-11-01T02:00:00Z' }, 'at', /in the past/],
    [{ edit: 'compose', app: 'shop', override: ['x'] }, 'override', /must be an object/],
  ];
  for (const [body, field, message] of cases) {
    const e = refusal(body);
    assert.is(e.code, 'usage');
    assert.is(e.data.field, field, JSON.stringify(body));
    assert.match(e.message, message);
  }
});

test('a pin and a schedule are checked against the channel first; the others are not', () => {
  assert.equal(pageOverlayEdit({ edit: 'pin', app: 'shop', version: '1.0.0' }, NOW, 'UTC').check, { target: { app: 'shop', version: '1.0.0' }, act: 'pin' });
  assert.equal(pageOverlayEdit({ edit: 'schedule', app: 'shop', at: '2026-12-05T02:00:00+08:00' }, NOW, 'UTC').check, { target: { app: 'shop' }, act: 'schedule' });
  assert.is(pageOverlayEdit({ edit: 'unhold' }, NOW, 'UTC').check, null);
});

test('approval set from a page keeps its line comment and the rest of the file', () => {
  const { edit } = pageOverlayEdit({ edit: 'approval', approval: 'manual' }, NOW, 'UTC');
  const after = editYamlText(OVERLAY, edit).text;
  // The edited line is yaml's (one space before its comment); every other line is the operator's.
  assert.is(after, OVERLAY.replace('approval: auto   # ops decides', 'approval: manual # ops decides'));
});

test('windows set, then handed back to the group, leave the operator text as it was', () => {
  const set = editYamlText(OVERLAY, (doc) => void setOverlayKey(doc, 'windows', [{ days: ['mon-fri'], start: '23:00', duration: '4h' }])).text;
  assert.equal(parse(set).windows, [{ days: ['mon-fri'], start: '23:00', duration: '4h' }]);
  for (const line of OVERLAY.split('\n')) assert.ok(set.includes(line), `kept: ${line}`);
  assert.is(editYamlText(set, (doc) => void setOverlayKey(doc, 'windows', null)).text, OVERLAY);
});

test('compose overrides replaced and removed; the comments around them stay', () => {
  const set = editYamlText(OVERLAY, (doc) => void setCompose(doc, 'shop', { env: { PORT: '8081', MODE: 'local' } })).text;
  assert.equal(parse(set).compose, { shop: { env: { PORT: '8081', MODE: 'local' } } });
  assert.ok(set.includes('# the port, agreed with networking') && set.includes('# end'), set);
  const removed = editYamlText(set, (doc) => void setCompose(doc, 'shop', null)).text;
  assert.is(parse(removed).compose, undefined);
  assert.ok(removed.includes('# end'), removed);
});

test('the CLI and the page share the time checks, each naming its own input', () => {
  assert.match(scheduleAtProblem('--at', '2020-01-01T00:00:00Z', NOW)!, /^--at 2020-01-01T00:00:00Z is in the past/);
  assert.is(scheduleAtProblem('at', '2026-12-05T02:00:00+08:00', NOW), null);
  // A bare date holds through the end of that day in the node's zone: over in Asia/Tokyo, not yet in New York.
  assert.is(holdUntilProblem('until', '2026-12-01', new Date('2026-12-01T16:00:00Z'), 'Asia/Tokyo'), 'until 2026-12-01 is already past (now 2026-12-01T16:00:00.000Z): such a hold would hold nothing');
  assert.is(holdUntilProblem('until', '2026-12-01', new Date('2026-12-01T16:00:00Z'), 'America/New_York'), null);
});

test("a picker's wall time in the node's zone becomes the instant with that zone's offset", () => {
  assert.is(wallTimeToInstant('2026-12-05T02:00', 'Asia/Shanghai'), '2026-12-05T02:00:00+08:00');
  assert.is(wallTimeToInstant('2026-12-05T02:00', 'UTC'), '2026-12-05T02:00:00+00:00');
  // Summer and winter offsets of the same zone, and a zone behind UTC.
  assert.is(wallTimeToInstant('2026-07-01T09:15', 'Europe/Berlin'), '2026-07-01T09:15:00+02:00');
  assert.is(wallTimeToInstant('2026-01-01T09:15', 'Europe/Berlin'), '2026-01-01T09:15:00+01:00');
  assert.is(wallTimeToInstant('2026-12-05T23:30', 'America/New_York'), '2026-12-05T23:30:00-05:00');
  assert.is(wallTimeToInstant('not a time', 'UTC'), null);
  assert.is(wallTimeOf('2026-12-05T02:00:00+08:00', 'Asia/Shanghai'), '2026-12-05T02:00');
  assert.is(formatInZone('2026-12-05T02:00:00Z', 'UTC'), 'Sat 5 Dec 2026, 02:00 UTC');
});

test.run();
