// The times an operator gives an overlay edit (DESIGN §4.1): a hold's end and a scheduled upgrade's
// start, checked the same way whether `duck hold --until` / `duck schedule --at` or the console's
// page gave them. Pure: the clock and the node's zone are arguments.
import { isCalendarDate, parseInstant } from './overlay-edits.js';
import { holdEnd } from './windows.js';

/**
 * Why `until` cannot end a hold set now, or null. `name` is how the operator gave it (`--until`,
 * `until`). A bare date is read in the node's zone, as the agent reads it (holdEnd).
 */
export function holdUntilProblem(name: string, until: string, now: Date, zone: string): string | null {
  if (!isCalendarDate(until) && parseInstant(until) === null) {
    return `${name} "${until}" is not a date like 2026-12-31 or a date-time with an offset like 2026-12-31T18:00:00+01:00`;
  }
  if (holdEnd(until, zone).getTime() <= now.getTime()) {
    return `${name} ${until} is already past (now ${now.toISOString()}): such a hold would hold nothing`;
  }
  return null;
}

/** Why `at` cannot start a scheduled upgrade set now (malformed, without an offset, past), or null. */
export function scheduleAtProblem(name: string, at: string, now: Date): string | null {
  const when = parseInstant(at);
  if (when === null) {
    // Without an offset the same text means different instants on nodes in different zones.
    const noOffset = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(at);
    return noOffset
      ? `${name} "${at}" has no offset: add one, as in ${at.length === 10 ? `${at}T02:00:00` : at.replace(' ', 'T')}+08:00 or …Z for UTC`
      : `${name} "${at}" is not an RFC 3339 date-time like 2026-11-25T02:00:00+08:00`;
  }
  if (when.getTime() <= now.getTime()) {
    return `${name} ${at} is in the past (now ${now.toISOString()}): a scheduled upgrade runs once, at a time to come`;
  }
  return null;
}
