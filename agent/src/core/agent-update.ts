// DESIGN §4.7: the agent's self-update as data. The updater's journal (format 1, part of the
// updater's versioned contract: every later version reads it) and what an updater that finds one
// left behind does next. Pure: the facts it looks at (is the writer of the journal alive, where
// does `current` point, what time is it) are arguments.
import type { AgentArtifact, AgentBuildState, AgentHeartbeat } from './agent-build.js';

/** The updater's steps, in order; `revert` only after a switch that did not prove healthy. */
export const UPDATE_STEPS = ['download', 'stage', 'self-test', 'switch', 'restart', 'health-wait', 'revert', 'done'] as const;
export type UpdateStep = (typeof UPDATE_STEPS)[number];

/** How a self-update ended (the telemetry event's outcome); `running` while it is in flight. */
export type UpdateOutcome = 'running' | 'applied' | 'rolled-back' | 'failed' | 'interrupted';

export const JOURNAL_FORMAT = 1;

/** `<stateDir>/self-update/journal.json`. New fields may be added; none of these change meaning. */
export interface UpdateJournal {
  readonly format: 1;
  readonly id: string;
  /** The version running when the update began (the one a revert goes back to). */
  readonly from: string;
  readonly to: string;
  /** `linux-x64`, `linux-arm64`. */
  readonly platform: string;
  readonly artifact: AgentArtifact;
  /** The release's digest: a failure is recorded against it. */
  readonly releaseDigest: string;
  readonly step: UpdateStep;
  readonly outcome: UpdateOutcome;
  /** Why it ended as it did, or what it waits for. */
  readonly reason: string;
  readonly startedAt: string;
  /** When `current` moved to `to` (the health wait wants a heartbeat newer than this). */
  readonly switchedAt: string | null;
  /** The end of the health wait. */
  readonly deadline: string | null;
  /** The updater process writing this journal. */
  readonly updaterPid: number;
  /** Runs of this update: the first, then one per resume. */
  readonly attempts: number;
  /** Once it ended: when, and the step a failure happened at (null when it was applied). */
  readonly endedAt?: string | null;
  readonly failedStep?: UpdateStep | null;
}

/** A build whose download failed is tried again this long after (the server or the network, not the build). */
export const DOWNLOAD_RETRY_MS = 60 * 60_000;

/** An update resumed more often than this gives up (before the switch) or reverts (after it). */
export const MAX_ATTEMPTS = 3;

export interface ResumeFacts {
  /** The journal's updater process still runs (another updater owns it). */
  readonly updaterAlive: boolean;
  /** The version `current` points at, or null when there is no link. */
  readonly current: string | null;
  readonly now: Date;
}

/**
 * What an updater does with a journal it finds:
 *  - `none`: nothing in flight (no journal, or one that ended);
 *  - `busy`: its updater still runs: leave it alone;
 *  - `restart`: killed before the switch: the running agent was never touched; go again from the
 *    download (which resumes from the bytes on disk);
 *  - `switch`: killed while switching (the daemon stopped, no new build started yet): switch again;
 *  - `await-health`: killed after the new build was started: start it again and wait, until the
 *    journal's deadline;
 *  - `revert`: the new build had its chance (deadline passed, too many attempts), or a revert was
 *    cut short: go back to `from`;
 *  - `give-up`: killed before the switch too often: record the version failed, touch nothing.
 */
export type ResumeAction =
  | { readonly kind: 'none'; readonly reason: string }
  | { readonly kind: 'busy'; readonly reason: string }
  | { readonly kind: 'restart'; readonly reason: string }
  | { readonly kind: 'switch'; readonly reason: string }
  | { readonly kind: 'await-health'; readonly reason: string }
  | { readonly kind: 'revert'; readonly reason: string }
  | { readonly kind: 'give-up'; readonly reason: string };

export function resumeAction(journal: UpdateJournal | null, facts: ResumeFacts): ResumeAction {
  if (journal === null) return { kind: 'none', reason: 'no self-update in flight' };
  if (journal.step === 'done' || journal.outcome !== 'running') return { kind: 'none', reason: `the update to ${journal.to} ended: ${journal.outcome}` };
  if (facts.updaterAlive) return { kind: 'busy', reason: `the updater (pid ${journal.updaterPid}) still runs the update to ${journal.to}` };
  const tooMany = journal.attempts >= MAX_ATTEMPTS;
  switch (journal.step) {
    case 'download':
    case 'stage':
    case 'self-test':
      if (tooMany) return { kind: 'give-up', reason: `the update to ${journal.to} was interrupted ${journal.attempts} times before its switch` };
      return { kind: 'restart', reason: `interrupted at ${journal.step}, before the switch: the running build was not touched` };
    case 'switch':
      // The new build never ran: the state is the old build's, so switching again is safe.
      if (tooMany) return { kind: 'revert', reason: `the switch to ${journal.to} was interrupted ${journal.attempts} times` };
      return { kind: 'switch', reason: `interrupted while switching to ${journal.to} (current: ${facts.current ?? 'none'})` };
    case 'restart':
    case 'health-wait': {
      if (facts.current !== journal.to) return { kind: 'revert', reason: `current points at ${facts.current ?? 'nothing'}, not ${journal.to}, after the switch` };
      const deadline = journal.deadline === null ? null : Date.parse(journal.deadline);
      if (deadline !== null && facts.now.getTime() >= deadline) return { kind: 'revert', reason: `no healthy cycle of ${journal.to} before ${journal.deadline}` };
      if (tooMany) return { kind: 'revert', reason: `the health wait of ${journal.to} was interrupted ${journal.attempts} times` };
      return { kind: 'await-health', reason: `interrupted at ${journal.step}: ${journal.to} is switched in, its health not yet proved` };
    }
    case 'revert':
      return { kind: 'revert', reason: `a revert to ${journal.from} was interrupted` };
  }
}

/** The journal one step further on (a new object: journals are written whole). */
export function advance(journal: UpdateJournal, step: UpdateStep, fields: Partial<Pick<UpdateJournal, 'reason' | 'switchedAt' | 'deadline' | 'outcome' | 'failedStep'>> = {}): UpdateJournal {
  return { ...journal, step, ...fields };
}

/** The journal of an update that ended: `done`, with how and why. */
export function ended(journal: UpdateJournal, outcome: Exclude<UpdateOutcome, 'running'>, reason: string, now: Date): UpdateJournal {
  const failedStep = outcome === 'applied' ? null : journal.step === 'revert' ? (journal.failedStep ?? 'health-wait') : journal.step;
  return { ...journal, step: 'done', outcome, reason, endedAt: now.toISOString(), failedStep };
}

/**
 * What an ended update leaves in the state, for whichever process is its writer to fold in (the
 * daemon when it holds the state, else the updater): a failure keeps the version off this node
 * until its release changes or `--retry`; a success lifts an old failure. True when it changed
 * anything (folding the same journal twice changes nothing).
 */
export function foldUpdateOutcome(build: AgentBuildState, journal: UpdateJournal): boolean {
  if (journal.outcome === 'applied') {
    if (!(journal.to in build.failed)) return false;
    delete build.failed[journal.to];
    return true;
  }
  if (journal.outcome !== 'failed' && journal.outcome !== 'rolled-back') return false;
  const at = journal.endedAt ?? journal.startedAt;
  const known = build.failed[journal.to];
  if (known !== undefined && known.at >= at) return false;
  const step = journal.failedStep ?? journal.step;
  const retryAt = step === 'download' ? new Date(Date.parse(at) + DOWNLOAD_RETRY_MS).toISOString() : null;
  build.failed[journal.to] = { version: journal.to, at, reason: journal.reason, step, releaseDigest: journal.releaseDigest, ...(retryAt ? { retryAt } : {}) };
  return true;
}

/**
 * Whether a cycle's heartbeat is worth a state write (and the Docker ping it carries, a docker CLI
 * run): a new process, build or accepted commit. A self-update's health wait looks for the first
 * one of a new build; repeating it would make an idle daemon write its state and run the docker
 * CLI at every poll, for nothing any reader needs.
 */
export function heartbeatNeedsRecord(last: AgentHeartbeat | null, next: Pick<AgentHeartbeat, 'pid' | 'version' | 'buildCommit' | 'channelCommit'>): boolean {
  return last === null || last.pid !== next.pid || last.version !== next.version || last.buildCommit !== next.buildCommit || last.channelCommit !== next.channelCommit;
}
