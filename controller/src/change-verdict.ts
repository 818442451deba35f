// What one node's changes to one version say about that version (pure). The failure-rate alert
// counts nodes, not attempts: a node that failed the same release five times is one node where it
// failed, and a node whose engine was down or whose agent was killed says nothing of the release.
import type { ChangeOutcome, FailureBlame, ReportEvent } from '../../schemas/index.js';

export type NodeVerdict = 'applied' | 'release-failed' | 'infrastructure-failed';

/** Nodes per verdict for one (group, app, version). */
export interface NodeCounts {
  applied: number;
  releaseFailed: number;
  infrastructureFailed: number;
}

export const NODE_COUNT_FIELD: Record<NodeVerdict, keyof NodeCounts> = {
  applied: 'applied',
  'release-failed': 'releaseFailed',
  'infrastructure-failed': 'infrastructureFailed',
};

export function emptyNodeCounts(): NodeCounts {
  return { applied: 0, releaseFailed: 0, infrastructureFailed: 0 };
}

/**
 * Whose fault a failed change was when the event does not say (agents from before `blame`): a
 * rollback, successful or not, followed a release that was started and failed, so it is the
 * release's; `failed` (nothing was stopped: no space, a download, the engine) and `interrupted`
 * (the agent was killed) are the node's. A rollback-failed from an engine outage is then blamed on
 * the release too: for old agents the alert errs towards telling someone.
 */
export const BLAME_WITHOUT_FIELD: Partial<Record<ChangeOutcome, FailureBlame>> = {
  'rolled-back': 'release',
  'rollback-failed': 'release',
  failed: 'infrastructure',
  interrupted: 'infrastructure',
};

/** The blame of a failed change: the event's own, else the rule for its outcome; null when it did not fail. */
export function blameOf(event: Pick<ReportEvent, 'outcome' | 'blame'>): FailureBlame | null {
  if (!event.outcome || event.outcome === 'applied' || event.outcome === 'deferred') return null;
  return event.blame ?? BLAME_WITHOUT_FIELD[event.outcome] ?? null;
}

/** What a change event says of its version on this node; null for one that is no attempt (deferred). */
export function verdictOf(event: Pick<ReportEvent, 'outcome' | 'blame'>): NodeVerdict | null {
  if (event.outcome === 'applied') return 'applied';
  const blame = blameOf(event);
  return blame === null ? null : blame === 'release' ? 'release-failed' : 'infrastructure-failed';
}

/**
 * The worse of two verdicts of one node on one version. A release failure stays (the release did
 * fail there, a later retry that worked does not undo that); a success outranks an infrastructure
 * failure, which tested nothing.
 */
const RANK: Record<NodeVerdict, number> = { 'infrastructure-failed': 0, applied: 1, 'release-failed': 2 };

export function worseVerdict(a: NodeVerdict, b: NodeVerdict): NodeVerdict {
  return RANK[b] > RANK[a] ? b : a;
}
