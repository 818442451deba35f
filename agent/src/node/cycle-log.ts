import type { Logger } from '../ports.js';
import type { CycleOutcome } from './cycle.js';

/**
 * What `duck run` logs of its cycles: a line when something changed, not one per poll. A quiet
 * node still says it is alive once an hour, so an operator reading the log knows it polls.
 */
export const CYCLE_HEARTBEAT_MS = 60 * 60_000;

/**
 * A `cycle` line when its facts differ from the last one logged, when the cycle made a change, or
 * once per heartbeat; a `wait` line per app when its wait starts or its reason changes.
 */
export function cycleLogger(log: Logger, now: () => number = Date.now): (outcome: CycleOutcome) => void {
  let lastFacts: string | null = null;
  let lastAt = -Infinity;
  let waits = new Map<string, string>();
  return (outcome) => {
    const seen = new Map<string, string>();
    for (const wait of outcome.waits) {
      const key = JSON.stringify([wait.kind ?? null, wait.reason, wait.until]);
      seen.set(wait.app, key);
      if (waits.get(wait.app) !== key) log('wait', { app: wait.app, outcome: 'deferred', kind: wait.kind ?? null, reason: wait.reason, until: wait.until });
    }
    waits = seen;
    const fields = {
      commit: outcome.commit,
      changes: outcome.apply.changes.length,
      waits: outcome.waits.length,
      refused: outcome.refusal?.reason ?? null,
      unreachable: outcome.unreachable?.reason ?? null,
    };
    const facts = JSON.stringify(fields);
    const at = now();
    const heartbeat = at - lastAt >= CYCLE_HEARTBEAT_MS;
    if (fields.changes === 0 && facts === lastFacts && !heartbeat) return;
    log('cycle', { ...fields, ...(facts === lastFacts && fields.changes === 0 ? { heartbeat: true } : {}) });
    lastFacts = facts;
    lastAt = at;
  };
}
