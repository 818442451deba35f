import type { FailureBlame } from '../../../schemas/index.js';
import type { AgentState, HistoryEntry, JournalEntry, Outcome } from './agent-state.js';
import { nextBackoff } from './backoff.js';
import { CHANGE_RULES } from './change.js';

/** How a journalled change ended, and whether its target version is quarantined on this node. */
export interface ChangeEnd {
  readonly outcome: Outcome;
  readonly reason: string;
  /** The target release failed through its own fault: not retried by itself (DESIGN §4.3 step 6). */
  readonly quarantine: boolean;
  /** The DuckError code of the failure, for the history; absent when nothing failed or a kill did. */
  readonly code?: string;
  /** A rollback-failed whose new version ran on the data: the repair restores this backup first. */
  readonly repairBackup?: string | null;
}

/** Outcomes of a change that did not apply (a deferral is a wait, not a failure). */
const NOT_APPLIED: readonly Outcome[] = ['rolled-back', 'rollback-failed', 'failed', 'interrupted'];

/**
 * Whose fault a change that did not apply was: the release's when it failed through its own fault
 * (health, probes, start: it is quarantined), the node's otherwise (engine, disk, a kill, a
 * download). Only the release's count against its rollout.
 */
export function blameOf(end: ChangeEnd): FailureBlame | null {
  if (!NOT_APPLIED.includes(end.outcome)) return null;
  return end.quarantine ? 'release' : 'infrastructure';
}

/**
 * What a finished change leaves in the state, pure: the journal entry goes, the history gains
 * one line, and the app's record follows from the kind of change and how it ended.
 */
export function recordChangeEnd(s: AgentState, journal: JournalEntry, end: ChangeEnd, at: Date, historyId: string): HistoryEntry {
  const kind = journal.kind ?? 'upgrade';
  const rule = CHANGE_RULES[kind];
  const now = at.toISOString();
  const ms = at.getTime() - Date.parse(journal.startedAt);
  const done = end.outcome === 'applied';
  let entry: HistoryEntry = {
    id: historyId,
    at: now,
    app: journal.app,
    from: journal.from,
    to: journal.to,
    outcome: done ? rule.done : end.outcome,
    reason: end.reason,
    commit: journal.commit,
    ms,
    backupId: journal.backupId,
    trigger: kind === 'upgrade' || kind === 'restore' ? journal.trigger : kind,
    ...(end.code ? { failureCode: end.code } : {}),
  };
  const blame = blameOf(end);
  if (blame) entry = { ...entry, blame };
  delete s.journal[journal.app];
  s.history.push(entry);
  if (end.outcome !== 'deferred') delete s.lockDeferredSince[journal.app];
  const installed = s.apps[journal.app];
  if (rule.switches && done && journal.to !== null) {
    s.apps[journal.app] = {
      version: journal.to,
      commit: journal.commit,
      since: now,
      migrations: journal.migrations,
      backupBeforeInstall: journal.backupId,
      configHash: journal.configHash ?? undefined,
      previous: journal.from,
    };
    delete s.failed[journal.app];
    delete s.backoff[journal.app];
  } else if (kind === 'purge' && done) {
    delete s.apps[journal.app];
    delete s.failed[journal.app];
    delete s.backoff[journal.app];
  } else if (kind === 'repair' && done && installed) {
    const { repair: _repaired, ...rest } = installed;
    s.apps[journal.app] = { ...rest, stoppedByOperator: false };
  } else if (installed && done) {
    if (kind === 'orphan') s.apps[journal.app] = { ...installed, orphaned: true };
    if (kind === 'stop') s.apps[journal.app] = { ...installed, stoppedByOperator: true };
    if (kind === 'start' || kind === 'restart') s.apps[journal.app] = { ...installed, stoppedByOperator: false };
  }
  // A reconfigure is recorded even when unhealthy: the containers run with the new overrides, and
  // trying again every poll would only restart them again; the next overlay edit tries anew.
  if (kind === 'reconfigure' && installed && (done || end.outcome === 'failed')) {
    s.apps[journal.app] = { ...installed, configHash: journal.configHash ?? installed.configHash, orphaned: false };
  }
  // A repair that failed after it put the data back must not put it back again next time: the
  // version it starts may have written since.
  const repairing = s.apps[journal.app]?.repair;
  if (kind === 'repair' && !done && repairing?.backupId && passed(journal, 'restoreData')) {
    s.apps[journal.app] = { ...s.apps[journal.app]!, repair: { ...repairing, backupId: null } };
  }
  // What runs is in doubt: the next cycle repairs toward the version recorded here, the last healthy one.
  if (end.outcome === 'rollback-failed' && rule.switches && s.apps[journal.app] && journal.from !== null) {
    s.apps[journal.app] = {
      ...s.apps[journal.app]!,
      repair: { since: now, failedTo: journal.to, backupId: end.repairBackup ?? null, reason: end.reason },
    };
  }
  // Nothing was stopped and the release is not at fault: try again later, not at every poll.
  if (rule.switches && end.outcome === 'failed' && !end.quarantine && journal.to !== null) {
    s.backoff[journal.app] = nextBackoff(
      s.backoff[journal.app],
      { cause: end.code ?? 'failed', message: end.reason, version: journal.to, ...(journal.releaseDigest ? { releaseDigest: journal.releaseDigest } : {}) },
      at,
    );
  }
  if (end.quarantine && journal.to !== null) {
    const before = s.failed[journal.app];
    const again = before?.version === journal.to && before.releaseDigest === journal.releaseDigest;
    s.failed[journal.app] = {
      version: journal.to,
      commit: journal.commit,
      at: now,
      reason: end.reason,
      ...(journal.releaseDigest ? { releaseDigest: journal.releaseDigest } : {}),
      attempts: again ? (before.attempts ?? 1) + 1 : 1,
    };
  }
  return entry;
}

/** Whether the change's step of this kind has run to its end. */
function passed(journal: JournalEntry, kind: string): boolean {
  const at = journal.steps.findIndex((step) => step.kind === kind);
  return at >= 0 && (journal.running > at || (journal.running === at && journal.runningDone));
}
