// What one new event does to the fleet's counts, shared by both stores so they cannot drift: the
// agent's last outcome per app, the attempt count of (group, app, version), the node's verdict on
// that version (counted once, its worst), and the folded failure log. The store supplies the rows
// (from memory or from rows it locked in a transaction); no I/O here.
import type { ChangeOutcome, ReportEvent } from '../../../schemas/index.js';
import { NODE_COUNT_FIELD, blameOf, emptyNodeCounts, verdictOf, worseVerdict } from '../change-verdict.js';
import type { FailureReport } from './failure-log.js';
import type { AgentRecord, CountedVerdict, OutcomeEntry } from './fleet-store.js';

export const MAX_FAILED_AGENTS_PER_VERSION = 200;

type AttemptField = keyof Pick<OutcomeEntry, 'applied' | 'rolledBack' | 'rollbackFailed' | 'deferred' | 'failed' | 'interrupted'>;
const COUNTED: Record<ChangeOutcome, AttemptField> = {
  applied: 'applied',
  'rolled-back': 'rolledBack',
  'rollback-failed': 'rollbackFailed',
  deferred: 'deferred',
  failed: 'failed',
  interrupted: 'interrupted',
};
/** Shown in the recent failures; an interrupted change is re-planned at once, so it is not one. */
const FAILURES: ReadonlySet<ChangeOutcome> = new Set(['failed', 'rolled-back', 'rollback-failed']);

/** Whether the event, new to the store, goes into the folded failure log. */
export function countsAsFailure(event: ReportEvent): boolean {
  return Boolean(event.outcome && event.app && FAILURES.has(event.outcome));
}

export function outcomeKey(group: string, app: string, version: string): string {
  // NUL cannot occur in schema-checked names, so keys never collide.
  return `${group}\u0000${app}\u0000${version}`;
}

export function emptyOutcomeRow(group: string, app: string, version: string): OutcomeEntry {
  return { group, app, version, applied: 0, rolledBack: 0, rollbackFailed: 0, deferred: 0, failed: 0, interrupted: 0, nodes: emptyNodeCounts(), failedAgents: [] };
}

/** The outcome row an event counts in, or null when it counts in none (no app, outcome or target version). */
export function countedKey(group: string, event: ReportEvent): { group: string; app: string; version: string } | null {
  if (!event.outcome || !event.app || event.to == null) return null;
  return { group, app: event.app, version: event.to };
}

export interface FoldTarget {
  /** The reporting agent's record, changed in place. */
  agent: Pick<AgentRecord, 'agentId' | 'facts' | 'lastOutcomes' | 'verdicts'>;
  /** The row for (group, app, version), made (empty) when there is none yet. */
  row(group: string, app: string, version: string): OutcomeEntry;
  addFailure(failure: FailureReport): void;
}

/** Folds one event new to the store into the counts; returns the outcome row it changed, if any. */
export function foldEvent(target: FoldTarget, group: string, event: ReportEvent): OutcomeEntry | null {
  if (!event.outcome || !event.app) return null;
  const { agent } = target;
  agent.lastOutcomes[event.app] = event.outcome;
  let row: OutcomeEntry | null = null;
  const key = countedKey(group, event);
  if (key) {
    row = target.row(key.group, key.app, key.version);
    row[COUNTED[event.outcome]]++;
    countNode(row, agent, event);
  }
  if (countsAsFailure(event)) {
    target.addFailure({
      agentId: agent.agentId,
      hostname: agent.facts.hostname,
      group,
      app: event.app,
      from: event.from ?? null,
      to: event.to ?? null,
      outcome: event.outcome,
      reason: event.reason ?? '',
      blame: blameOf(event) ?? 'release',
      at: event.at,
    });
  }
  return row;
}

/** Counts the node once for the version: its worst verdict so far stands. */
function countNode(row: OutcomeEntry, agent: FoldTarget['agent'], event: ReportEvent): void {
  const verdict = verdictOf(event);
  if (verdict === null) return;
  const verdicts: Record<string, CountedVerdict> = (agent.verdicts ??= {});
  const before = verdicts[row.app];
  const same = before !== undefined && before.group === row.group && before.version === row.version;
  const now = same ? worseVerdict(before.verdict, verdict) : verdict;
  if (same && now === before.verdict) return;
  if (same) row.nodes[NODE_COUNT_FIELD[before.verdict]]--;
  row.nodes[NODE_COUNT_FIELD[now]]++;
  verdicts[row.app] = { group: row.group, version: row.version, verdict: now };
  if (now === 'release-failed' && !row.failedAgents.includes(agent.agentId) && row.failedAgents.length < MAX_FAILED_AGENTS_PER_VERSION) {
    row.failedAgents.push(agent.agentId);
  }
}
