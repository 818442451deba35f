// The recent failures, with repeats folded: the same failure (group, app, version, outcome, reason,
// blame) reported again — a node retrying every poll, or many nodes failing alike — is one record
// with a count, the first and last time, and the nodes it came from. No I/O here.
import type { FailureBlame } from '../../../schemas/index.js';
import type { FailureRecord } from './fleet-store.js';

export const MAX_RECENT_FAILURES = 100;
/** Node ids kept per folded failure; `agents` goes on counting past it. */
export const MAX_AGENTS_PER_FAILURE = 50;

export type FailureReport = Omit<FailureRecord, 'count' | 'firstAt' | 'agents' | 'agentIds'>;

function sameFailure(a: FailureReport, b: FailureReport): boolean {
  return a.group === b.group && a.app === b.app && a.to === b.to && a.outcome === b.outcome && a.reason === b.reason && a.blame === b.blame;
}

/** Records from before folding (no count, no blame) read as one occurrence each. */
export function normalizeFailure(record: FailureRecord, blame: FailureBlame): FailureRecord {
  record.count ??= 1;
  record.firstAt ??= record.at;
  record.agentIds ??= [record.agentId];
  record.agents ??= record.agentIds.length;
  record.blame ??= blame;
  return record;
}

/**
 * Adds a failure to the log (oldest first): folded into the same failure when it is there, which
 * then moves to the end as the newest; the log keeps its newest MAX_RECENT_FAILURES.
 */
export function addFailure(log: FailureRecord[], failure: FailureReport): void {
  const index = log.findLastIndex((r) => sameFailure(r, failure));
  if (index === -1) {
    log.push({ ...failure, count: 1, firstAt: failure.at, agents: 1, agentIds: [failure.agentId] });
  } else {
    const record = log.splice(index, 1)[0]!;
    record.count++;
    if (failure.at < record.firstAt) record.firstAt = failure.at;
    if (failure.at >= record.at) {
      record.at = failure.at;
      record.agentId = failure.agentId;
      record.hostname = failure.hostname;
      record.from = failure.from;
    }
    if (!record.agentIds.includes(failure.agentId)) {
      // Past the bound a node not listed counts at each repeat: `agents` is then an upper bound.
      if (record.agentIds.length < MAX_AGENTS_PER_FAILURE) record.agentIds.push(failure.agentId);
      record.agents++;
    }
    log.push(record);
  }
  if (log.length > MAX_RECENT_FAILURES) log.splice(0, log.length - MAX_RECENT_FAILURES);
}
