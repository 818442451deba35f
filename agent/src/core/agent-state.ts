import type { AppRunState, FailureBlame, ReportEvent } from '../../../schemas/index.js';
import type { ChangeKind, ChangeTrigger } from './change.js';
import type { Step } from './steps.js';
import { emptyAgentBuildState, type AgentBuildState } from './agent-build.js';

/**
 * The agent's durable state (DESIGN §4.5), one JSON document under the state directory.
 * `schemaVersion` lets a later agent migrate a file an earlier one wrote.
 */
export const STATE_SCHEMA_VERSION = 1;

export interface AcceptedAnchor {
  readonly commit: string;
  readonly signerFingerprint: string;
  readonly signerName: string;
  /** Committer time of the accepted commit (ISO): freshness is measured from it. */
  readonly committedAt: string;
  readonly acceptedAt: string;
  readonly channelVersion: number;
}

export interface ChannelRefusal {
  readonly tip: string;
  readonly reason: string;
  readonly message: string;
  readonly at: string;
}

export interface VerifiedSignatureFact {
  readonly fingerprint: string;
  readonly keyId: string;
  readonly valid: boolean;
  readonly message?: string;
}

/**
 * The channel could not be fetched (network, deadline, server error, oversized download), apart
 * from a refusal of what was fetched. Kept until the next fetch that works.
 */
export interface ChannelFetchFailure {
  readonly reason: string;
  readonly message: string;
  /** The first failure of this run of failures. */
  readonly since: string;
  readonly at: string;
  /** Failed fetches in a row. */
  readonly failures: number;
  /** The next poll on this node's grid. */
  readonly nextTryAt: string;
}

export interface ChannelState {
  anchor: AcceptedAnchor | null;
  lastRefusal: ChannelRefusal | null;
  /** Absent in a state an earlier agent wrote: read as null. */
  fetchFailure?: ChannelFetchFailure | null;
  lastCheckAt: string | null;
  /** Signature facts by commit id, so no commit is verified twice. */
  verified: Record<string, VerifiedSignatureFact>;
}

/** What runs on this node, per app, as the agent last left it. */
export interface InstalledApp {
  readonly version: string;
  /** The accepted commit the release was read from. */
  readonly commit: string;
  readonly since: string;
  readonly migrations: 'reversible' | 'irreversible';
  /** The backup taken just before this version was installed (DESIGN §4.4 restores it on a downgrade). */
  readonly backupBeforeInstall: string | null;
  /** Hash of everything that shapes the app's running state; unchanged means no Docker mutation. */
  readonly configHash?: string;
  /** The version this one replaced: its release directory and images are kept for a rollback. */
  readonly previous?: string | null;
  /** Stopped by the operator (`duck stop`): the agent does not start it again by itself. */
  readonly stoppedByOperator?: boolean;
  /** No longer in the group: stopped once, kept with its data until duck purge. */
  readonly orphaned?: boolean;
  /** A rollback failed: what runs is in doubt until a repair brings this version back (issue 12 §6). */
  readonly repair?: RepairNeed;
}

/** What a failed rollback leaves for the repair the next cycle plans (core/plan.ts planRepair). */
export interface RepairNeed {
  readonly since: string;
  /** The version the failed change was moving to: what may still run instead. */
  readonly failedTo: string | null;
  /** Put back before the repair starts the version again: the failed version ran on the data. */
  readonly backupId: string | null;
  readonly reason: string;
}

export type Outcome = 'applied' | 'rolled-back' | 'rollback-failed' | 'deferred' | 'failed' | 'interrupted';

/** One line of an app's history: what the agent did, and why. */
export interface HistoryEntry {
  readonly id: string;
  readonly at: string;
  readonly app: string;
  readonly from: string | null;
  readonly to: string | null;
  readonly outcome: Outcome | 'backup' | 'retry' | 'stopped' | 'started' | 'orphaned' | 'purged' | 'channel-refused';
  readonly reason: string;
  readonly commit?: string;
  readonly ms?: number;
  readonly backupId?: string | null;
  /** Who asked for a change (the journal's trigger): a restore is told apart from an upgrade by it. */
  readonly trigger?: string;
  /** The DuckError code of the failure that ended the change (`docker`: the engine, `unhealthy`: the release); absent after a kill. */
  readonly failureCode?: string;
  /** For a change that did not apply: whether the release itself failed, or the node did. */
  readonly blame?: FailureBlame;
}

/** The change in flight for one app, written before each step runs (DESIGN §4.3). */
export interface JournalEntry {
  readonly id: string;
  /** Absent in a journal an earlier agent wrote: that was always an upgrade. */
  readonly kind?: ChangeKind;
  readonly app: string;
  readonly from: string | null;
  /** null only for a purge. */
  readonly to: string | null;
  readonly commit: string;
  readonly trigger: ChangeTrigger;
  readonly reason: string;
  readonly startedAt: string;
  steps: Step[];
  /** Index of the step begun last; steps before it are done. */
  running: number;
  /** Whether `running` finished. */
  runningDone: boolean;
  /** forward; rollback after a failed switch; settle: the steps that still run after a failure (CHANGE_RULES). */
  phase: 'forward' | 'rollback' | 'settle';
  backupId: string | null;
  failure: string | null;
  /** The DuckError code of `failure`, kept for the history (absent: a kill, or no failure). */
  failureCode?: string;
  /** Set with a rollback the release itself caused: a recovery that finishes it still quarantines. */
  quarantine?: boolean;
  /** null when the change leaves the app's shape as it was (start, stop, backup, purge). */
  configHash: string | null;
  /** releaseDigest() of the target release, recorded with a failure. */
  releaseDigest?: string;
  migrations: 'reversible' | 'irreversible';
}

/** A version that failed here: not retried until the channel moves or an operator acts. */
export interface FailedVersion {
  readonly version: string;
  readonly commit: string;
  readonly at: string;
  readonly reason: string;
  /** releaseDigest() of the release that failed: the same content is not tried again by itself. */
  readonly releaseDigest?: string;
  /** Failed attempts of that content here; a release's `retries: N` allows N more. */
  readonly attempts?: number;
  /** `duck retry`: one more attempt is allowed; the next failure counts on from `attempts`. */
  readonly retryRequested?: boolean;
}

/**
 * A change that failed without stopping anything (no space, engine unreachable, download failed)
 * waits before it is tried again, doubling per failure of the same cause up to a cap.
 */
export interface AppBackoff {
  /** The failure's code (no-space, docker, fetch, io...): another cause starts the count again. */
  readonly cause: string;
  readonly message: string;
  readonly failures: number;
  readonly since: string;
  readonly at: string;
  readonly nextTryAt: string;
  /** The target that failed: a channel change to another release is tried at once. */
  readonly version: string;
  readonly releaseDigest?: string;
}

export interface AgentState {
  schemaVersion: number;
  /** A UUID made once: the rollout bucket and the controller both know the node by it. */
  agentId: string | null;
  channel: ChannelState;
  apps: Record<string, InstalledApp>;
  failed: Record<string, FailedVersion>;
  /** app -> the back-off in force after a failure that stopped nothing. */
  backoff: Record<string, AppBackoff>;
  /** `app@version` -> when this node entered that version's rollout; a node in stays in. */
  admitted: Record<string, string>;
  /** app -> the `schedule.at` already carried out, so a one-shot schedule runs once. */
  schedulesDone: Record<string, string>;
  journal: Record<string, JournalEntry>;
  history: HistoryEntry[];
  /** app -> when its update lock first deferred the pending change (ISO). */
  lockDeferredSince: Record<string, string>;
  /** The newest agent-clock time seen (ISO): a clock behind it makes no time-based decision. */
  newestTimeSeen: string | null;
  /** This agent's enrollment with the controller; a changed controller URL enrolls again. */
  controller: ControllerEnrollment | null;
  /** Report events not yet acknowledged by the controller (DESIGN §4.5: the report outbox). */
  outbox: ReportOutbox;
  /** The agent's own builds (DESIGN §4.7): failed versions and the daemon's heartbeat. */
  agentBuild: AgentBuildState;
  /**
   * Announcement id -> when the operator acknowledged it (DESIGN §4.10). Only ids still in the
   * accepted announcements file are kept. A state written before it has none: reading fills `{}`.
   */
  acknowledged: Record<string, string>;
}

export interface ControllerEnrollment {
  readonly url: string;
  readonly agentId: string;
  /** The agent's own token: the controller keeps only its hash, so it lives only here. */
  readonly token: string;
  readonly enrolledAt: string;
}

export interface ReportOutbox {
  /** Oldest first; they leave only when a report carrying them got a 2xx. */
  events: ReportEvent[];
  /** Events dropped past the cap and not yet turned into an events-dropped event. */
  dropped: number;
  /** The id of the last history entry queued: the entries after it are new. */
  historyCursor: string | null;
  /** The id of the channel-refused event last queued, so one refusal is queued once. */
  refusalQueued: string | null;
}

export function emptyOutbox(): ReportOutbox {
  return { events: [], dropped: 0, historyCursor: null, refusalQueued: null };
}

export function emptyAgentState(): AgentState {
  return {
    schemaVersion: STATE_SCHEMA_VERSION,
    agentId: null,
    channel: { anchor: null, lastRefusal: null, fetchFailure: null, lastCheckAt: null, verified: {} },
    apps: {},
    failed: {},
    backoff: {},
    admitted: {},
    schedulesDone: {},
    journal: {},
    history: [],
    lockDeferredSince: {},
    newestTimeSeen: null,
    controller: null,
    outbox: emptyOutbox(),
    agentBuild: emptyAgentBuildState(),
    acknowledged: {},
  };
}

/** Worst first: an orphan or an operator's stop says more than a failed version beside a running one. */
export function runState(state: Pick<AgentState, 'apps' | 'failed'>, app: string): AppRunState {
  const installed = state.apps[app];
  if (installed?.orphaned) return 'orphaned';
  if (installed?.stoppedByOperator) return 'stopped';
  if (state.failed[app] || installed?.repair) return 'failed';
  return installed ? 'running' : 'absent';
}

/** Bounded so a long-lived agent's state file stays small; the newest facts are kept. */
export const VERIFIED_CACHE_LIMIT = 20_000;
export const HISTORY_LIMIT = 1_000;
