/**
 * Maintenance windows (DESIGN §4.1): when the changes a channel asks for may start. The date
 * arithmetic only (luxon); windows as written are checked and described in window-spec.ts.
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
import { DateTime } from 'luxon';
import type { Window } from '../../../schemas/index.js';
import { parseDuration } from './duration.js';
import { DuckError } from '../../../schemas/errors.js';
import type { Calendar, WindowOccurrence, WindowState } from './window-spec.js';
import { DAY_LABEL, isValidZone, parseStart, weekdays } from './window-spec.js';

const DAY_MS = 86_400_000;
/** From any local date, every weekday recurs within 7 days; one more absorbs offset slop. */
const LOOKAHEAD_DAYS = 8;

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

/** A bare date holds through that whole day in the node's zone; a date-time is exact. */
export function holdEnd(until: string, zone: string): Date {
  if (/^\d{4}-\d{2}-\d{2}$/.test(until)) return DateTime.fromISO(until, { zone }).plus({ days: 1 }).startOf('day').toJSDate();
  return new Date(until);
}

/** What resolve() is given when its input has windows or a hold with an end (window-spec.ts). */
export const CALENDAR: Calendar = { windowState, holdEnd };

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
