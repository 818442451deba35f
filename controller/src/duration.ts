// Durations on the command line ("15m", "90d", "1h30m"). The agent has its own parser in core/,
// but the controller never imports agent code, so it keeps this small one.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+)(ms|s|m|h|d|w)/g;

/** Milliseconds of "1h30m"-style text; throws a message naming the option when it is not one. */
export function parseDuration(text: string, option: string): number {
  const trimmed = text.trim();
  if (!/^(\d+(ms|s|m|h|d|w))+$/.test(trimmed)) {
    throw new Error(`${option}: "${text}" is not a duration (e.g. 90s, 15m, 1h30m, 90d)`);
  }
  let total = 0;
  for (const match of trimmed.matchAll(PART)) total += Number(match[1]) * UNIT_MS[match[2]!]!;
  if (total <= 0) throw new Error(`${option}: "${text}" must be longer than zero`);
  return total;
}
