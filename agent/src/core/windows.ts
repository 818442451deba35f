/**
 * Maintenance windows (DESIGN §4.1): when the changes a channel asks for may start.
 *
 * Pure: the instant to evaluate at and the node's zone are arguments. Local times are read in the
 * window's `timezone`, or the node's zone when it has none. A window belongs to the day it starts,
 * and its duration is absolute elapsed time from the start instant, so a 3h window is 3h long on a
 * DST day too.
 *
 * Two DST cases are decided here on purpose, not left to the library's defaults:
 * - A start that does not exist that day (02:30 on a spring-forward day) opens at the same local time
 *   shifted forward by the gap (02:30 -> 03:30 when the clock jumps 02:00 -> 03:00). That is what
 *   luxon does for a nonexistent local time, and it keeps the window on its day instead of skipping a
 *   week: a node that waits for "Sun 02:30" still gets its window on that Sunday.
 * - A start that exists twice (01:30 on a fall-back day) opens at the FIRST of the two instants.
 *   Luxon picks the later one (the standard-time offset), so the earlier is chosen explicitly with
 *   `getPossibleOffsets()`. The window opens once that day, never again an hour later.
 */
import { DateTime, IANAZone } from 'luxon';
import type { Day, DaySpec, Window } from '../../../schemas/index.js';
import { parseDuration } from './duration.js';
import { DuckError } from '../../../schemas/errors.js';

export interface WindowOccurrence {
  /** The instant this occurrence opens. */
  readonly start: Date;
  /** start + duration, as absolute elapsed time. */
  readonly end: Date;
  /** Which window of the list. */
  readonly index: number;
  /** The IANA zone it was evaluated in. */
  readonly zone: string;
  /** For people: "Sat 02:00 Asia/Shanghai" — the local day and time it opens, and the zone. */
  readonly label: string;
}

export interface WindowState {
  readonly open: boolean;
  /** The open occurrence containing now; the one ending last when several overlap. */
  readonly current: WindowOccurrence | null;
  /** The earliest occurrence starting after now; null only when there are no windows. */
  readonly next: WindowOccurrence | null;
}

/** Luxon's weekday numbers (ISO: Monday = 1). A Record over Day so a missing day is a type error. */
const WEEKDAY: Readonly<Record<Day, number>> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };
const DAY_LABEL = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
const DAY_MS = 86_400_000;
/** From any local date, every weekday recurs within 7 days; one more absorbs offset slop. */
const LOOKAHEAD_DAYS = 8;

/** True for a zone name the runtime's IANA database knows ("Asia/Shanghai", "UTC"). */
export function isValidZone(zone: string): boolean {
  return zone !== '' && IANAZone.isValidZone(zone);
}

/**
 * Checks what the schema cannot: the zone names. An unknown zone is a config error, never a silent
 * UTC. Start and duration are checked too, since windows may reach here from code as well as YAML.
 */
export function assertValidWindows(windows: readonly Window[], where: { file: string; field: string }): void {
  windows.forEach((window, i) => {
    const at = (key: string): { file: string; field: string } => ({ file: where.file, field: `${where.field}/${i}/${key}` });
    const fail = (key: string, message: string): never => {
      const data = at(key);
      throw new DuckError('invalid', `${data.file}: ${data.field}: ${message}`, data);
    };
    if (window.timezone !== undefined && !isValidZone(window.timezone)) {
      fail('timezone', `unknown time zone "${window.timezone}"`);
    }
    if (parseStart(window.start) === null) fail('start', `"${window.start}" is not a time like 02:00`);
    if (parseDuration(window.duration, at('duration')) <= 0) fail('duration', `"${window.duration}" must be longer than zero`);
    if (weekdays(window.days).size === 0) fail('days', 'names no day');
  });
}

/** Whether a window is open at `now`, which occurrence, and when the next one opens. */
export function windowState(windows: readonly Window[], now: Date, defaultZone: string): WindowState {
  const nowMs = now.getTime();
  let current: WindowOccurrence | null = null;
  let next: WindowOccurrence | null = null;
  windows.forEach((window, index) => {
    for (const occ of occurrencesAround(window, index, nowMs, defaultZone)) {
      const start = occ.start.getTime();
      const end = occ.end.getTime();
      // Strict comparisons keep the first window of the list on ties, so results are deterministic.
      if (start <= nowMs && nowMs < end) {
        if (current === null || end > current.end.getTime()) current = occ;
      } else if (start > nowMs) {
        if (next === null || start < next.start.getTime()) next = occ;
      }
    }
  });
  return { open: current !== null, current, next };
}

/** "Sat-Sun 02:00 for 3h Asia/Shanghai", "Mon-Fri 23:00 for 4h Europe/Berlin". */
export function describeWindow(window: Window, defaultZone: string): string {
  const zone = window.timezone ?? defaultZone;
  return `${describeDays(weekdays(window.days))} ${window.start} for ${window.duration} ${zone}`;
}

/**
 * Every occurrence of one window that could contain `nowMs` or be the next after it: from as many
 * days back as the duration reaches, to LOOKAHEAD_DAYS ahead: about ten date computations per window
 * (about 1ms), never a walk over minutes, so it is cheap enough for every app on every poll.
 */
function occurrencesAround(window: Window, index: number, nowMs: number, defaultZone: string): WindowOccurrence[] {
  const zone = window.timezone ?? defaultZone;
  if (!isValidZone(zone)) {
    throw window.timezone === undefined
      ? new DuckError('config', `the node's time zone "${zone}" is not a known IANA zone`, { zone })
      : new DuckError('invalid', `/windows/${index}/timezone: unknown time zone "${zone}"`, { field: `/windows/${index}/timezone` });
  }
  const time = parseStart(window.start);
  if (time === null) {
    throw new DuckError('invalid', `/windows/${index}/start: "${window.start}" is not a time like 02:00`, { field: `/windows/${index}/start` });
  }
  const durationMs = parseDuration(window.duration, { field: `/windows/${index}/duration` });
  const days = weekdays(window.days);
  const lookBack = Math.ceil(durationMs / DAY_MS) + 1;

  // Walk calendar dates in UTC, where every day is 24h, and only then place the time in the zone:
  // stepping a zoned DateTime by days would carry DST shifts into the walk.
  const local = DateTime.fromMillis(nowMs, { zone });
  const today = DateTime.fromObject({ year: local.year, month: local.month, day: local.day }, { zone: 'utc' });
  const found: WindowOccurrence[] = [];
  for (let k = -lookBack; k <= LOOKAHEAD_DAYS; k++) {
    const date = today.plus({ days: k });
    if (!days.has(date.weekday)) continue;
    const start = localStart(date, time, zone);
    const startMs = start.toMillis();
    found.push({
      start: new Date(startMs),
      end: new Date(startMs + durationMs),
      index,
      zone,
      // The actual local opening time, so a shifted start reads "Sun 03:30", not a time that never was.
      label: `${DAY_LABEL[start.weekday - 1]} ${pad(start.hour)}:${pad(start.minute)} ${zone}`,
    });
  }
  return found;
}

/**
 * The instant a window starting at `time` on calendar `date` opens in `zone`. Nonexistent times
 * take luxon's forward shift by the gap; ambiguous times take the earlier instant (see the header).
 */
function localStart(date: { year: number; month: number; day: number }, time: { hour: number; minute: number }, zone: string): DateTime {
  const dt = DateTime.fromObject({ year: date.year, month: date.month, day: date.day, hour: time.hour, minute: time.minute }, { zone });
  const candidates = dt.getPossibleOffsets();
  return candidates.reduce((earliest, c) => (c.toMillis() < earliest.toMillis() ? c : earliest), dt);
}

function parseStart(text: string): { hour: number; minute: number } | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : null;
}

/** The ISO weekdays (Monday = 1) a `days` value names. A range is inclusive and may wrap: fri-mon. */
function weekdays(days: DaySpec | readonly DaySpec[]): Set<number> {
  const specs: readonly DaySpec[] = typeof days === 'string' ? [days] : days;
  const set = new Set<number>();
  for (const spec of specs) {
    const [from, to = from] = spec.split('-') as [Day, Day?];
    const first = WEEKDAY[from];
    const last = WEEKDAY[to];
    if (first === undefined || last === undefined) continue;
    const span = (last - first + 7) % 7;
    for (let d = 0; d <= span; d++) set.add(((first - 1 + d) % 7) + 1);
  }
  return set;
}

/**
 * Runs of consecutive days, each as "Mon" or "Mon-Fri", joined by commas. A run may wrap over the
 * weekend ("Fri-Mon") so that a range written that way reads back the same.
 */
function describeDays(days: ReadonlySet<number>): string {
  if (days.size === 7) return 'Mon-Sun';
  if (days.size === 0) return 'never';
  const has = (d: number): boolean => days.has(((d - 1 + 7) % 7) + 1);
  const runs: string[] = [];
  for (let d = 1; d <= 7; d++) {
    if (!has(d) || has(d - 1)) continue; // only where a run begins
    let end = d;
    while (has(end + 1)) end++;
    const first = DAY_LABEL[d - 1];
    const last = DAY_LABEL[((end - 1) % 7 + 7) % 7];
    runs.push(end === d ? `${first}` : `${first}-${last}`);
  }
  return runs.join(',');
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
