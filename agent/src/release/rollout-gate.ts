// `duck release gate`'s judgement (pure): from one reading of the controller's rollout progress,
// whether a version proved itself in a group (pass), failed there (fail), or cannot be told yet
// (pending). A CI job promotes the next group only on pass. Failures count only when the release
// is to blame: a node whose engine was down tested nothing (the controller's fault split).
import { DuckError } from '../../../schemas/errors.js';

/** What the gate reads of one entry of GET /api/v1/rollouts; the rest of the entry is ignored. */
export interface RolloutReading {
  group: string;
  app: string;
  desired: string | null;
  version: string | null;
  total: number;
  inRollout: number;
  counts: Record<string, number> & { healthy: number; releaseFailed: number };
}

/** At most this many nodes may fail: a count, or a share of the nodes in the rollout. */
export type FailureLimit = { kind: 'count'; count: number } | { kind: 'percent'; percent: number };

export interface GateCriteria {
  minNodes: number;
  maxFailed: FailureLimit;
}

export type GateVerdict = { kind: 'pass' | 'fail' | 'pending'; message: string };

/** "0%", "10%", "2": anything else is a usage error naming the option. */
export function parseFailureLimit(text: string, option = '--max-failed'): FailureLimit {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  if (percent) {
    const value = Number(percent[1]);
    if (value <= 100) return { kind: 'percent', percent: value };
  } else if (/^\d+$/.test(text.trim())) return { kind: 'count', count: Number(text.trim()) };
  throw new DuckError('usage', `${option}: "${text}" is not a node count (2) or a share of the rollout's nodes (0%, 10%)`, { field: option });
}

export function parseMinNodes(text: string, option = '--min-nodes'): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1) throw new DuckError('usage', `${option}: "${text}" is not a whole number of nodes >= 1`, { field: option });
  return n;
}

/** Rejects a body that is not the rollouts answer, naming the field, so a wrong URL is not read as "pending". */
export function readRollouts(body: unknown, where: string): RolloutReading[] {
  const rollouts = (body as { rollouts?: unknown } | null)?.rollouts;
  if (!Array.isArray(rollouts)) throw new DuckError('fetch', `${where}: the answer has no rollouts list; is this a duck controller?`, { url: where, field: 'rollouts' }, 'stalled');
  for (const [i, r] of rollouts.entries()) {
    const entry = r as Partial<RolloutReading> | null;
    if (typeof entry?.group !== 'string' || typeof entry.app !== 'string' || typeof entry.inRollout !== 'number' || typeof entry.counts?.healthy !== 'number' || typeof entry.counts.releaseFailed !== 'number') {
      throw new DuckError('fetch', `${where}: rollouts/${i} lacks group, app, inRollout or counts.healthy/releaseFailed`, { url: where, field: `rollouts/${i}` }, 'stalled');
    }
  }
  return rollouts as RolloutReading[];
}

function exceeds(failed: number, inRollout: number, limit: FailureLimit): boolean {
  if (limit.kind === 'count') return failed > limit.count;
  return inRollout > 0 && (failed / inRollout) * 100 > limit.percent;
}

function limitText(limit: FailureLimit): string {
  return limit.kind === 'count' ? `${limit.count}` : `${limit.percent}%`;
}

/** The other places with nodes in them, for a message that says what the rollout waits on. */
function othersText(r: RolloutReading): string {
  const others = Object.entries(r.counts).filter(([place, n]) => n > 0 && place !== 'healthy' && place !== 'releaseFailed');
  return others.length === 0 ? '' : `; ${others.map(([place, n]) => `${place} ${n}`).join(', ')}`;
}

export function judgeRollout(reading: RolloutReading | undefined, target: { group: string; app: string; version: string }, criteria: GateCriteria): GateVerdict {
  const subject = `${target.app} ${target.version} in group ${target.group}`;
  if (!reading) return { kind: 'pending', message: `no node of group ${target.group} reports app ${target.app} yet` };
  const { healthy, releaseFailed } = reading.counts;
  const asks = reading.desired !== null && reading.desired !== target.version ? ` (the group's nodes ask for ${reading.desired})` : '';
  const seen = `healthy on ${healthy} of ${reading.inRollout} nodes in the rollout, failed by the release on ${releaseFailed}${othersText(reading)}${asks}`;
  if (exceeds(releaseFailed, reading.inRollout, criteria.maxFailed)) {
    return { kind: 'fail', message: `${subject} failed: ${seen}; at most ${limitText(criteria.maxFailed)} may fail` };
  }
  if (healthy >= criteria.minNodes) return { kind: 'pass', message: `${subject} passed: ${seen}; ${criteria.minNodes} needed` };
  return { kind: 'pending', message: `${subject} not proven yet: ${seen}; ${criteria.minNodes} needed` };
}
