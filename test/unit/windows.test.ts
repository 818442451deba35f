import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Window } from '../../schemas/index.js';
import { DuckError } from '../../schemas/errors.js';
import { assertValidWindows, describeWindow, isValidZone } from '../../agent/src/core/window-spec.js';
import { windowState } from '../../agent/src/core/windows.js';

/** "2026-03-08T07:30Z" -> the same instant as a full ISO string, so expectations stay short. */
const iso = (text: string): string => new Date(text).toISOString();

interface Case {
  readonly name: string;
  readonly now: string;
  readonly open: boolean;
  /** Expected current.start / current.end, when open. */
  readonly from?: string;
  readonly until?: string;
  /** Expected next.start. */
  readonly next?: string;
  /** Expected label of current (when open) or next (when closed). */
  readonly label?: string;
}

function check(windows: readonly Window[], zone: string, cases: readonly Case[]): void {
  for (const c of cases) {
    const state = windowState(windows, new Date(c.now), zone);
    assert.is(state.open, c.open, `${c.name}: open`);
    assert.is(state.current !== null, c.open, `${c.name}: current`);
    if (c.from !== undefined) assert.is(state.current?.start.toISOString(), iso(c.from), `${c.name}: current.start`);
    if (c.until !== undefined) assert.is(state.current?.end.toISOString(), iso(c.until), `${c.name}: current.end`);
    if (c.next !== undefined) assert.is(state.next?.start.toISOString(), iso(c.next), `${c.name}: next.start`);
    if (c.label !== undefined) assert.is((c.open ? state.current : state.next)?.label, c.label, `${c.name}: label`);
  }
}

// America/New_York, 2026-03-08: clocks jump 02:00 EST -> 03:00 EDT (07:00Z).
test('New York spring forward: a 02:30 start opens at 03:30 EDT that day and lasts its duration', () => {
  check([{ days: 'sun', start: '02:30', duration: '1h', timezone: 'America/New_York' }], 'UTC', [
    { name: '03:15 EDT, before the shifted start', now: '2026-03-08T07:15Z', open: false, next: '2026-03-08T07:30Z', label: 'Sun 03:30 America/New_York' },
    { name: '03:30 EDT opens', now: '2026-03-08T07:30Z', open: true, from: '2026-03-08T07:30Z', until: '2026-03-08T08:30Z' },
    { name: 'one minute before the end', now: '2026-03-08T08:29Z', open: true },
    { name: 'an hour after the start, closed', now: '2026-03-08T08:30Z', open: false, next: '2026-03-15T06:30Z', label: 'Sun 02:30 America/New_York' },
  ]);
});

test('New York spring forward: a duration is elapsed time, not wall-clock time', () => {
  // Sat 23:00 EST + 4h of real time ends at 04:00 EDT, not 03:00.
  check([{ days: 'sat', start: '23:00', duration: '4h', timezone: 'America/New_York' }], 'UTC', [
    { name: 'opens at 23:00 EST', now: '2026-03-08T04:00Z', open: true, from: '2026-03-08T04:00Z', until: '2026-03-08T08:00Z', label: 'Sat 23:00 America/New_York' },
    { name: '03:59 EDT still open', now: '2026-03-08T07:59Z', open: true },
    { name: '04:00 EDT closed', now: '2026-03-08T08:00Z', open: false },
  ]);
});

// America/New_York, 2026-11-01: clocks fall back 02:00 EDT -> 01:00 EST (06:00Z); 01:30 happens twice.
test('New York fall back: an ambiguous 01:30 opens at the first one, and not again at the second', () => {
  check([{ days: 'sun', start: '01:30', duration: '30m', timezone: 'America/New_York' }], 'UTC', [
    { name: 'before the first 01:30', now: '2026-11-01T05:00Z', open: false, next: '2026-11-01T05:30Z', label: 'Sun 01:30 America/New_York' },
    { name: 'the first 01:30 (EDT) opens', now: '2026-11-01T05:30Z', open: true, from: '2026-11-01T05:30Z', until: '2026-11-01T06:00Z' },
    { name: 'the second 01:30 (EST) does not', now: '2026-11-01T06:30Z', open: false, next: '2026-11-08T06:30Z' },
    { name: 'the second 01:45 (EST) does not', now: '2026-11-01T06:45Z', open: false },
  ]);
});

test('New York fall back: a window over the repeated hour lasts its elapsed duration', () => {
  // 01:00 EDT + 2h ends at 02:00 EST, which is 3 wall-clock hours later.
  check([{ days: 'sun', start: '01:00', duration: '2h', timezone: 'America/New_York' }], 'UTC', [
    { name: 'opens at 01:00 EDT', now: '2026-11-01T05:00Z', open: true, from: '2026-11-01T05:00Z', until: '2026-11-01T07:00Z' },
    { name: '01:59 EST still open', now: '2026-11-01T06:59Z', open: true },
    { name: '02:00 EST closed', now: '2026-11-01T07:00Z', open: false },
  ]);
});

// Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z); 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z).
test('Berlin spring forward: a 02:30 start opens at 03:30 CEST that day', () => {
  check([{ days: 'sun', start: '02:30', duration: '1h', timezone: 'Europe/Berlin' }], 'UTC', [
    { name: 'before the shifted start', now: '2026-03-29T01:15Z', open: false, next: '2026-03-29T01:30Z', label: 'Sun 03:30 Europe/Berlin' },
    { name: '03:30 CEST opens', now: '2026-03-29T01:30Z', open: true, from: '2026-03-29T01:30Z', until: '2026-03-29T02:30Z' },
    { name: 'closed after its hour', now: '2026-03-29T02:30Z', open: false, next: '2026-04-05T00:30Z' },
  ]);
});

test('Berlin spring forward: a start exactly at the gap (02:00) opens at 03:00 CEST', () => {
  check([{ days: 'sun', start: '02:00', duration: '1h', timezone: 'Europe/Berlin' }], 'UTC', [
    { name: 'opens at the end of the gap', now: '2026-03-29T01:00Z', open: true, from: '2026-03-29T01:00Z', until: '2026-03-29T02:00Z', label: 'Sun 03:00 Europe/Berlin' },
  ]);
});

test('Berlin fall back: an ambiguous 02:30 opens at the first one (CEST), not the second (CET)', () => {
  check([{ days: 'sun', start: '02:30', duration: '30m', timezone: 'Europe/Berlin' }], 'UTC', [
    { name: 'before', now: '2026-10-25T00:00Z', open: false, next: '2026-10-25T00:30Z', label: 'Sun 02:30 Europe/Berlin' },
    { name: 'the first 02:30 opens', now: '2026-10-25T00:45Z', open: true, from: '2026-10-25T00:30Z', until: '2026-10-25T01:00Z' },
    { name: 'the second 02:30 does not', now: '2026-10-25T01:30Z', open: false, next: '2026-11-01T01:30Z' },
    { name: 'the second 02:45 does not', now: '2026-10-25T01:45Z', open: false },
  ]);
});

test('a window belongs to the day it starts: Fri 23:00 for 2h is open on Saturday 00:30', () => {
  const fri = [{ days: ['fri'], start: '23:00', duration: '2h', timezone: 'Asia/Shanghai' }] satisfies Window[];
  // 2026-01-02 is a Friday; Asia/Shanghai is UTC+8 all year.
  check(fri, 'UTC', [
    { name: 'Sat 00:30 local is open', now: '2026-01-02T16:30Z', open: true, from: '2026-01-02T15:00Z', until: '2026-01-02T17:00Z', label: 'Fri 23:00 Asia/Shanghai' },
    { name: 'Sat 01:30 local is closed', now: '2026-01-02T17:30Z', open: false, next: '2026-01-09T15:00Z', label: 'Fri 23:00 Asia/Shanghai' },
    { name: 'Sat 23:30 local is closed (not a Friday)', now: '2026-01-03T15:30Z', open: false },
  ]);
});

test('a window longer than a day is found from days after its start', () => {
  check([{ days: 'fri', start: '23:00', duration: '50h', timezone: 'UTC' }], 'UTC', [
    { name: 'Sunday noon', now: '2026-01-04T12:00Z', open: true, from: '2026-01-02T23:00Z', until: '2026-01-05T01:00Z' },
    { name: 'Monday 01:00', now: '2026-01-05T01:00Z', open: false, next: '2026-01-09T23:00Z' },
  ]);
});

test('day ranges, wrapping ranges and a single day string', () => {
  // Week of 2026-01-05 (Mon) .. 2026-01-11 (Sun); each window opens 10:00-11:00 UTC.
  const days = ['2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08', '2026-01-09', '2026-01-10', '2026-01-11'];
  const table: readonly { days: Window['days']; open: readonly boolean[] }[] = [
    { days: ['mon-fri'], open: [true, true, true, true, true, false, false] },
    { days: ['fri-mon'], open: [true, false, false, false, true, true, true] },
    { days: 'wed', open: [false, false, true, false, false, false, false] },
    { days: 'sat-sun', open: [false, false, false, false, false, true, true] },
    { days: ['mon', 'wed-thu'], open: [true, false, true, true, false, false, false] },
    { days: ['sun-sat'], open: [true, true, true, true, true, true, true] },
  ];
  for (const row of table) {
    const windows: Window[] = [{ days: row.days, start: '10:00', duration: '1h', timezone: 'UTC' }];
    days.forEach((day, i) => {
      assert.is(windowState(windows, new Date(`${day}T10:30Z`), 'UTC').open, row.open[i], `${JSON.stringify(row.days)} on ${day}`);
    });
  }
});

test('overlapping windows: open when any contains now; current is the one ending last', () => {
  const windows: Window[] = [
    { days: 'sat', start: '02:00', duration: '3h', timezone: 'UTC' },
    { days: 'sat', start: '03:00', duration: '4h', timezone: 'UTC' },
    { days: 'sat', start: '01:00', duration: '2h', timezone: 'UTC' },
  ];
  const cases = [
    { now: '2026-01-03T01:30Z', index: 2 },
    { now: '2026-01-03T02:30Z', index: 0 },
    { now: '2026-01-03T04:00Z', index: 1 },
    { now: '2026-01-03T06:00Z', index: 1 },
  ];
  for (const c of cases) {
    const state = windowState(windows, new Date(c.now), 'UTC');
    assert.ok(state.open, c.now);
    assert.is(state.current?.index, c.index, c.now);
  }
  const after = windowState(windows, new Date('2026-01-03T07:00Z'), 'UTC');
  assert.is(after.open, false);
  assert.is(after.next?.index, 2);
  assert.is(after.next?.start.toISOString(), iso('2026-01-10T01:00Z'));
});

test('next from inside a window is the following occurrence, not the current one', () => {
  const windows: Window[] = [{ days: ['sat', 'sun'], start: '02:00', duration: '3h', timezone: 'UTC' }];
  const state = windowState(windows, new Date('2026-01-03T03:00Z'), 'UTC');
  assert.is(state.current?.start.toISOString(), iso('2026-01-03T02:00Z'));
  assert.is(state.next?.start.toISOString(), iso('2026-01-04T02:00Z'));
  assert.is(state.next?.label, 'Sun 02:00 UTC');
  assert.is(state.next?.end.toISOString(), iso('2026-01-04T05:00Z'));
});

test('next from outside a window, across a week and a year boundary', () => {
  check([{ days: ['sat', 'sun'], start: '02:00', duration: '3h', timezone: 'UTC' }], 'UTC', [
    { name: 'Sunday after the window', now: '2026-01-04T06:00Z', open: false, next: '2026-01-10T02:00Z', label: 'Sat 02:00 UTC' },
    { name: 'exactly at the end', now: '2026-01-04T05:00Z', open: false, next: '2026-01-10T02:00Z' },
    { name: 'exactly at the start', now: '2026-01-10T02:00Z', open: true, next: '2026-01-11T02:00Z' },
  ]);
  check([{ days: 'mon', start: '02:00', duration: '1h', timezone: 'UTC' }], 'UTC', [
    { name: 'Sunday night, next is Monday of the next week and year', now: '2027-01-03T23:00Z', open: false, next: '2027-01-04T02:00Z', label: 'Mon 02:00 UTC' },
    { name: 'Monday after it closed, next is a week on', now: '2026-12-28T03:00Z', open: false, next: '2027-01-04T02:00Z' },
  ]);
});

test('windows without a timezone use the default zone argument', () => {
  const windows: Window[] = [{ days: 'sat', start: '02:00', duration: '1h' }];
  const now = new Date('2026-01-03T02:30Z'); // Saturday 02:30 UTC, 10:30 in Shanghai
  const utc = windowState(windows, now, 'UTC');
  assert.ok(utc.open);
  assert.is(utc.current?.zone, 'UTC');
  assert.is(utc.current?.label, 'Sat 02:00 UTC');
  const shanghai = windowState(windows, now, 'Asia/Shanghai');
  assert.is(shanghai.open, false);
  assert.is(shanghai.next?.zone, 'Asia/Shanghai');
  assert.is(shanghai.next?.start.toISOString(), iso('2026-01-09T18:00Z'));
  assert.is(shanghai.next?.label, 'Sat 02:00 Asia/Shanghai');
});

test('a window with its own timezone ignores the default zone', () => {
  const windows: Window[] = [{ days: 'sat', start: '02:00', duration: '1h', timezone: 'Asia/Shanghai' }];
  const now = new Date('2026-01-02T18:30Z');
  assert.ok(windowState(windows, now, 'UTC').open);
  assert.ok(windowState(windows, now, 'America/New_York').open);
});

test('no windows: never open and no next', () => {
  assert.equal(windowState([], new Date('2026-01-03T02:30Z'), 'UTC'), { open: false, current: null, next: null });
});

test('an unknown time zone is a config error naming the file and field, never a silent UTC', () => {
  const windows: Window[] = [
    { days: 'sat', start: '02:00', duration: '3h', timezone: 'Europe/Berlin' },
    { days: 'sun', start: '02:00', duration: '3h', timezone: 'Mars/Base' },
  ];
  try {
    assertValidWindows(windows, { file: 'groups/production.yaml', field: '/windows' });
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, DuckError);
    const e = err as DuckError;
    assert.is(e.code, 'invalid');
    assert.is(e.message, 'groups/production.yaml: /windows/1/timezone: unknown time zone "Mars/Base"');
    assert.equal(e.data, { file: 'groups/production.yaml', field: '/windows/1/timezone' });
  }
  assert.throws(() => windowState(windows, new Date('2026-01-03T02:30Z'), 'UTC'), (e: unknown) => e instanceof DuckError && e.code === 'invalid');
  assert.throws(
    () => windowState([{ days: 'sat', start: '02:00', duration: '3h' }], new Date('2026-01-03T02:30Z'), 'Mars/Base'),
    (e: unknown) => e instanceof DuckError && e.code === 'config',
  );
});

test('assertValidWindows accepts good windows and refuses a bad start or a zero duration', () => {
  assertValidWindows(
    [
      { days: ['sat', 'sun'], start: '02:00', duration: '3h', timezone: 'Asia/Shanghai' },
      { days: 'mon-fri', start: '23:00', duration: '1h30m' },
    ],
    { file: 'overlay.yaml', field: '/windows' },
  );
  assert.throws(() => assertValidWindows([{ days: 'sat', start: '24:00', duration: '3h' }], { file: 'o.yaml', field: '/windows' }), /o\.yaml: \/windows\/0\/start/);
  assert.throws(() => assertValidWindows([{ days: 'sat', start: '02:00', duration: '0m' }], { file: 'o.yaml', field: '/windows' }), /\/windows\/0\/duration/);
});

test('isValidZone knows IANA names only', () => {
  const table: readonly [string, boolean][] = [
    ['Asia/Shanghai', true],
    ['Europe/Berlin', true],
    ['UTC', true],
    ['Mars/Base', false],
    ['', false],
    ['+08:00', false],
  ];
  for (const [zone, ok] of table) assert.is(isValidZone(zone), ok, zone);
});

test('describeWindow reads as people write windows', () => {
  const table: readonly [Window, string, string][] = [
    [{ days: ['sat', 'sun'], start: '02:00', duration: '3h', timezone: 'Asia/Shanghai' }, 'UTC', 'Sat-Sun 02:00 for 3h Asia/Shanghai'],
    [{ days: ['mon-fri'], start: '23:00', duration: '4h' }, 'Europe/Berlin', 'Mon-Fri 23:00 for 4h Europe/Berlin'],
    [{ days: 'fri-mon', start: '01:00', duration: '1h30m' }, 'UTC', 'Fri-Mon 01:00 for 1h30m UTC'],
    [{ days: ['mon', 'wed-fri'], start: '04:00', duration: '90m' }, 'UTC', 'Mon,Wed-Fri 04:00 for 90m UTC'],
    [{ days: 'sun', start: '02:30', duration: '1h', timezone: 'America/New_York' }, 'UTC', 'Sun 02:30 for 1h America/New_York'],
    [{ days: ['mon-sun'], start: '00:00', duration: '1h' }, 'UTC', 'Mon-Sun 00:00 for 1h UTC'],
  ];
  for (const [window, zone, text] of table) assert.is(describeWindow(window, zone), text);
});

test.run();
