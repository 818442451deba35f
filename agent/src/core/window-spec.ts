/**
 * Maintenance windows as written (DESIGN §4.1): checking and describing them, without evaluating
 * them against a clock. Kept apart from the time arithmetic (windows.ts, luxon) so that a command
 * reading a group or an overlay without windows loads no date library: compiling luxon is about a
 * twentieth of a `duck status` (issue 13).
 */
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

/**
 * The date arithmetic resolve() needs in a zone (windows.ts): an argument of resolve, so that a
 * node whose windows and hold need none never loads it.
 */
export interface Calendar {
  windowState(windows: readonly Window[], now: Date, defaultZone: string): WindowState;
  /** The instant a hold's `until` ends: a bare date holds through that whole day in `zone`. */
  holdEnd(until: string, zone: string): Date;
}

/** Luxon's weekday numbers (ISO: Monday = 1). A Record over Day so a missing day is a type error. */
const WEEKDAY: Readonly<Record<Day, number>> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };
export const DAY_LABEL = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

/**
 * True for a zone name the runtime's IANA database knows ("Asia/Shanghai", "UTC"): the test
 * luxon's IANAZone.isValidZone makes, without loading luxon.
 */
export function isValidZone(zone: string): boolean {
  if (zone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone }).format();
    return true;
  } catch {
    return false;
  }
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

/** "Sat-Sun 02:00 for 3h Asia/Shanghai", "Mon-Fri 23:00 for 4h Europe/Berlin". */
export function describeWindow(window: Window, defaultZone: string): string {
  const zone = window.timezone ?? defaultZone;
  return `${describeDays(weekdays(window.days))} ${window.start} for ${window.duration} ${zone}`;
}

export function parseStart(text: string): { hour: number; minute: number } | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : null;
}

/** The ISO weekdays (Monday = 1) a `days` value names. A range is inclusive and may wrap: fri-mon. */
export function weekdays(days: DaySpec | readonly DaySpec[]): Set<number> {
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
