// Durations on the command line ("15m", "90d", "1h30m"), in the format the schemas define.
import { durationMs } from '../../schemas/duration.js';

/** Milliseconds of "1h30m"-style text; throws a message naming the option when it is not one. */
export function parseDuration(text: string, option: string): number {
  const total = durationMs(text.trim());
  if (total === null) throw new Error(`${option}: "${text}" is not a duration (e.g. 90s, 15m, 1h30m, 90d)`);
  if (total <= 0) throw new Error(`${option}: "${text}" must be longer than zero`);
  return total;
}
