import { createHash } from 'node:crypto';

/**
 * DESIGN §4.5 and the fleet rule that nodes never poll in step: each node polls at its own
 * stable offset within the interval, derived from its id.
 */
export function pollOffsetMs(agentId: string, intervalMs: number): number {
  const digest = createHash('sha256').update(`poll\0${agentId}`).digest();
  return digest.readUInt32BE(0) % Math.max(1, intervalMs);
}

/** The first poll time strictly after `now` on this node's grid. */
export function nextPollAt(now: number, intervalMs: number, offsetMs: number): number {
  const base = Math.floor((now - offsetMs) / intervalMs) * intervalMs + offsetMs;
  return base > now ? base : base + intervalMs;
}

/** The earliest future moment among the waits, or null. */
export function earliestUntil(untils: readonly (string | null)[], now: number): number | null {
  const times = untils.filter((u): u is string => u !== null).map((u) => Date.parse(u)).filter((t) => t > now);
  return times.length ? Math.min(...times) : null;
}
