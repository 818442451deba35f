import type { HistoryEntry } from './agent-state.js';
import type { Trigger } from './desired.js';
import type { Step, StepKind, Wait } from './steps.js';

/**
 * Every Docker mutation the agent makes is one of these changes: planned here as data, run step
 * by step by apply/'s journalled executor, recovered the same way after a kill (DESIGN §4.11).
 */
export type ChangeKind = 'upgrade' | 'restore' | 'reconfigure' | 'orphan' | 'start' | 'stop' | 'restart' | 'backup' | 'purge' | 'repair';

/** Who asked: the channel's triggers, an operator's command, or an edit of the overlay. */
export type ChangeTrigger = Trigger | 'operator' | 'overlay';

export interface ChangeRule {
  /**
   * The change moves the app to another release directory: a failure after the stop rolls back
   * to the old version (DESIGN §4.3 step 6), and a kill before the switch does too.
   */
  readonly switches: boolean;
  /**
   * For a change that does not switch: after a failure, the steps from this kind on still run, so
   * the app ends as the operator meant it (running again after a backup or a restart).
   */
  readonly settleFrom: StepKind | null;
  /** What the history calls the change once it is done. */
  readonly done: HistoryEntry['outcome'];
}

/** How each kind of change reacts to a failure, a kill and success: the executor reads this table. */
export const CHANGE_RULES: { readonly [K in ChangeKind]: ChangeRule } = {
  upgrade: { switches: true, settleFrom: null, done: 'applied' },
  restore: { switches: true, settleFrom: null, done: 'applied' },
  reconfigure: { switches: false, settleFrom: null, done: 'applied' },
  orphan: { switches: false, settleFrom: null, done: 'orphaned' },
  start: { switches: false, settleFrom: null, done: 'started' },
  stop: { switches: false, settleFrom: null, done: 'stopped' },
  restart: { switches: false, settleFrom: 'up', done: 'started' },
  backup: { switches: false, settleFrom: 'up', done: 'backup' },
  purge: { switches: false, settleFrom: null, done: 'purged' },
  // Back to the installed version after a failed rollback: there is nothing better to roll back to.
  repair: { switches: false, settleFrom: null, done: 'applied' },
};

/** One app's change: what the journal records before the first step runs. */
export interface PlannedChange {
  readonly kind: ChangeKind;
  readonly app: string;
  /** The version running before (null: nothing installed). */
  readonly from: string | null;
  /** The version running after; null only for a purge. */
  readonly to: string | null;
  readonly trigger: ChangeTrigger;
  readonly reason: string;
  readonly steps: readonly Step[];
  /** The accepted commit the target release comes from (the installed one for a change in place). */
  readonly commit: string;
  /** The hash of everything that shapes the app once the change is done; null when it does not change. */
  readonly configHash: string | null;
  /** releaseDigest() of the target release, so a failure is not retried on the same content. */
  readonly releaseDigest: string | null;
  readonly migrations: 'reversible' | 'irreversible';
}

/** plan(): the changes to make now, per app in name order, and why the others wait. */
export interface Plan {
  readonly changes: readonly PlannedChange[];
  readonly waits: readonly Wait[];
}

export function planSteps(plan: Plan): readonly Step[] {
  return plan.changes.flatMap((c) => c.steps);
}
