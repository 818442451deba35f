// Pure: what the agent did (its history, its channel refusals) as the controller's report events.
import { createHash } from 'node:crypto';
import type { ChangeOutcome, ReportEvent, ReportEventType } from '../../../schemas/index.js';
import type { ChannelRefusal, HistoryEntry } from '../core/agent-state.js';
import type { UpdateJournal } from '../core/agent-update.js';
import { compareVersions } from '../core/plan.js';

const CHANGE_OUTCOMES: readonly string[] = ['applied', 'rolled-back', 'rollback-failed', 'deferred', 'failed', 'interrupted'] satisfies ChangeOutcome[];
/** The report schema's reason and commit caps: a longer history text is cut, never refused. */
const MAX_REASON = 4000;
const MAX_COMMIT = 64;

/**
 * The history entries after `cursor` (the last one queued), oldest first. A cursor that is no
 * longer in the history (trimmed, or a state from before reporting) queues all of it: the
 * controller deduplicates by id, so a repeat costs bytes, never a double count.
 */
export function historySince(history: readonly HistoryEntry[], cursor: string | null): readonly HistoryEntry[] {
  if (cursor === null) return history;
  const at = history.findIndex((h) => h.id === cursor);
  return at < 0 ? history : history.slice(at + 1);
}

/** One history entry as one event with the same id, so a re-queued entry stays one event. */
export function eventOfHistory(entry: HistoryEntry): ReportEvent {
  const change = CHANGE_OUTCOMES.includes(entry.outcome);
  const event: ReportEvent = {
    id: entry.id,
    at: entry.at,
    type: change ? changeType(entry) : (entry.outcome as ReportEventType),
    ...(change ? { outcome: entry.outcome as ChangeOutcome } : {}),
    app: entry.app,
    from: entry.from,
    to: entry.to,
    reason: entry.reason.slice(0, MAX_REASON),
  };
  if (entry.commit) event.commit = entry.commit.slice(0, MAX_COMMIT);
  if (entry.ms !== undefined) event.ms = Math.max(0, Math.round(entry.ms));
  if (change && entry.blame) event.blame = entry.blame;
  return event;
}

/** install from nothing; restore when the operator restored a backup; else the versions decide. */
function changeType(entry: HistoryEntry): ReportEventType {
  if (entry.from === null) return 'install';
  // Entries written before history carried the trigger: operator-acts' restore reason is "duck restore <id>".
  if (entry.trigger === 'restore' || (entry.trigger === undefined && entry.reason.startsWith('duck restore '))) return 'restore';
  if (entry.to === null || entry.from === entry.to) return 'reconfigure';
  return compareVersions(entry.to, entry.from) < 0 ? 'downgrade' : 'upgrade';
}

/**
 * A channel refusal is kept as the state's lastRefusal, not in the history: its event id comes
 * from the refused tip and reason, so the same refusal seen at every poll is queued once.
 */
export function eventOfRefusal(refusal: ChannelRefusal): ReportEvent {
  const digest = createHash('sha256').update(`${refusal.tip}\n${refusal.reason}`).digest('hex').slice(0, 32);
  return {
    id: `refused-${digest}`,
    at: refusal.at,
    type: 'channel-refused',
    reason: `${refusal.reason}: ${refusal.message}`.slice(0, MAX_REASON),
    ...(refusal.tip ? { commit: refusal.tip.slice(0, MAX_COMMIT) } : {}),
  };
}

/**
 * An ended self-update (its journal) as one agent-update event: from and to are agent versions,
 * no app. Its id comes from the journal's, so the build that folds it in queues it once.
 */
export function eventOfUpdate(journal: UpdateJournal): ReportEvent | null {
  if (journal.outcome === 'running') return null;
  const at = journal.endedAt ?? journal.startedAt;
  const step = journal.outcome === 'applied' ? '' : ` (at ${journal.failedStep ?? journal.step})`;
  return {
    id: `agent-update-${journal.id}`.slice(0, 128),
    at,
    type: 'agent-update',
    outcome: journal.outcome,
    from: journal.from,
    to: journal.to,
    reason: `${journal.reason}${step}`.slice(0, MAX_REASON),
    ms: Math.max(0, Date.parse(at) - Date.parse(journal.startedAt)) || 0,
  };
}
