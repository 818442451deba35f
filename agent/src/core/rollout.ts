import { createHash } from 'node:crypto';
import type { RolloutStep } from '../../../schemas/index.js';

/**
 * DESIGN §4.1: a node's bucket for a release is a stable hash of (agent id, app, version) in
 * [0, 100). The same node lands in a different bucket for each release, so the same nodes are
 * not always first.
 */
export function rolloutBucket(agentId: string, app: string, version: string): number {
  const digest = createHash('sha256').update(`${agentId}\0${app}\0${version}`).digest();
  // 48 bits are plenty for an even spread and stay exact in a double.
  return (digest.readUIntBE(0, 6) / 2 ** 48) * 100;
}

export interface RolloutPosition {
  /** The percent in force now: the last step whose time has come (0 before the first). */
  readonly percent: number;
  /** When a later step would take this bucket in, if one does. */
  readonly admitsAt: Date | null;
  readonly isIn: boolean;
}

/** No rollout steps means everyone at once. A node is in once the percent exceeds its bucket. */
export function rolloutPosition(steps: readonly RolloutStep[] | undefined, bucket: number, now: Date): RolloutPosition {
  if (!steps || steps.length === 0) return { percent: 100, admitsAt: null, isIn: true };
  const sorted = [...steps].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  let percent = 0;
  for (const step of sorted) if (Date.parse(step.at) <= now.getTime()) percent = step.percent;
  const later = sorted.find((s) => Date.parse(s.at) > now.getTime() && s.percent > bucket);
  return { percent, admitsAt: later ? new Date(later.at) : null, isIn: percent > bucket };
}

export function formatBucket(bucket: number): string {
  return bucket.toFixed(1);
}
