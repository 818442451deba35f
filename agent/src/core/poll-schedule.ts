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

function stableOffsetMs(purpose: string, agentId: string, intervalMs: number): number {
  const digest = createHash('sha256').update(`${purpose}\0${agentId}`).digest();
  return digest.readUInt32BE(0) % Math.max(1, intervalMs);
}

/** How long after start a fleet that boots together spreads its first fetches and reports by default. */
export const DEFAULT_START_SPREAD_MS = 5 * 60_000;

/**
 * A fleet that boots together (a power cut, a mass reboot) must not fetch at once: the first poll
 * after start waits for the node's offset, scaled into the start spread (at most the interval),
 * so the nodes spread evenly over that window and a long interval does not leave a node blind for
 * long after its start. 0 with no spread.
 */
export function startDelayMs(offsetMs: number, intervalMs: number, spreadMs: number): number {
  const window = Math.min(intervalMs, spreadMs);
  if (window <= 0 || intervalMs <= 0) return 0;
  return Math.floor((offsetMs / intervalMs) * window);
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
