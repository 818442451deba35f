import { createHash } from 'node:crypto';

/**
 * DESIGN §4.5 and the fleet rule that nodes never poll in step: each node polls at its own
 * stable offset within the interval, derived from its id.
 */
export function pollOffsetMs(agentId: string, intervalMs: number): number {
  return stableOffsetMs('poll', agentId, intervalMs);
}

/** The same for reports: a fleet's reports land spread over the report interval, not in lockstep. */
export function reportOffsetMs(agentId: string, intervalMs: number): number {
  return stableOffsetMs('report', agentId, intervalMs);
}

/** A stable offset in [0, intervalMs) for this purpose and id: the fleet spreads without coordination. */
export function stableOffsetMs(purpose: string, agentId: string, intervalMs: number): number {
  const digest = createHash('sha256').update(`${purpose}\0${agentId}`).digest();
  return digest.readUInt32BE(0) % Math.max(1, intervalMs);
}

/** How long after start a fleet that boots together spreads its first fetches and reports by default. */
export const DEFAULT_START_SPREAD_MS = 5 * 60_000;

/**
 * A fleet that boots together (a power cut, a mass reboot) must not fetch at once. The first poll
 * after start is this node's next turn on its grid when that comes within the start spread; with
 * an interval longer than the spread, its offset scaled into the spread, so a node is never blind
 * for long after its start. A spread of 0 polls at once.
 */
export function firstPollAt(now: number, intervalMs: number, offsetMs: number, spreadMs: number): number {
  if (spreadMs <= 0 || intervalMs <= 0) return now;
  if (intervalMs <= spreadMs) return nextPollAt(now, intervalMs, offsetMs);
  return now + Math.floor((offsetMs / intervalMs) * spreadMs);
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
