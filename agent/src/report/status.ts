// Pure: the status a report carries, from the agent state and the decisions `duck status` shows.
import type { AgentStatus, AgentUpdateStatus, AppStatus, BackoffStatus, FetchFailureStatus } from '../../../schemas/index.js';
import type { StateSnapshot } from '../ports.js';
import type { AppBackoff, ChannelFetchFailure, RepairNeed } from '../core/agent-state.js';
import type { AgentBuildFailure } from '../core/agent-build.js';
import type { AgentUpdateDecision } from '../core/agent-target.js';
import { runState } from '../core/agent-state.js';
import type { AppDesired, DesiredState } from '../core/desired.js';

export interface StatusInput {
  readonly state: StateSnapshot;
  readonly group: string;
  /** resolve()'s answer for the accepted commit; null before the first accept. */
  readonly desired: DesiredState | null;
  /** From channelFreshness() of the accepted commit; false when nothing is accepted. */
  readonly stale: boolean;
  /** Why the apps carry no decision when `desired` is null; before the first accept by default. */
  readonly undecided?: string;
}

export function agentStatus(input: StatusInput): AgentStatus {
  const { state, desired } = input;
  const { anchor, lastRefusal, lastCheckAt } = state.channel;
  const fetchFailure = state.channel.fetchFailure ?? null;
  const apps = desired ? desired.apps.map((a) => decidedStatus(state, a)) : installedOnly(state, input.undecided ?? 'no channel commit accepted yet');
  return {
    group: input.group,
    held: desired?.hold != null,
    channel: {
      commit: anchor?.commit ?? null,
      committedAt: anchor?.committedAt ?? null,
      acceptedAt: anchor?.acceptedAt ?? null,
      lastCheckAt,
      stale: input.stale,
      refusal: lastRefusal
        ? { reason: lastRefusal.reason.slice(0, 64), message: lastRefusal.message.slice(0, 2000), ...(lastRefusal.tip ? { tip: lastRefusal.tip.slice(0, 64) } : {}), at: lastRefusal.at }
        : null,
      fetchFailure: fetchFailure ? fetchFailureStatus(fetchFailure) : null,
    },
    apps: apps.sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : 0)).slice(0, 500),
  };
}

export function fetchFailureStatus(f: ChannelFetchFailure): FetchFailureStatus {
  return { reason: f.reason.slice(0, 64), message: f.message.slice(0, 2000), since: f.since, at: f.at, failures: f.failures, nextTryAt: f.nextTryAt };
}

export function backoffStatus(b: AppBackoff): BackoffStatus {
  return { cause: b.cause.slice(0, 64), message: b.message.slice(0, 2000), failures: b.failures, since: b.since, nextTryAt: b.nextTryAt };
}

/**
 * An app with resolve()'s answer: the group's version and the pin beside it, and what a wait waits
 * for. What runs is read from the state now, not from the cycle's start: a report sent right after
 * the cycle applied a change (`duck run --once`, the daemon's report after each cycle) says the new
 * version runs, not that a change to it is due, so the controller does not count the node as
 * updating until its next cycle.
 */
function decidedStatus(state: StateSnapshot, a: AppDesired): AppStatus {
  const current = state.apps[a.app]?.version ?? null;
  // Only a change of version counts as done: a reconfigure keeps the version, so its decision stands.
  const done = a.decision === 'apply' && current !== a.current && current !== null && current === a.desired;
  return {
    ...(done ? appStatus(state, a.app, current, a.desired, 'none', `${current} runs: applied in the last cycle`) : appStatus(state, a.app, current, a.desired, a.decision, a.reason)),
    groupVersion: a.groupVersion,
    pinned: a.pinned,
    ...(a.waitingFor && !done ? { waitingFor: a.waitingFor, until: a.until } : {}),
    ...(a.backoff && !done ? { backoff: backoffStatus(a.backoff) } : {}),
  };
}

/** A failed rollback leaves what runs in doubt until the repair: say so before anything else. */
export function repairNote(current: string | null, repair: RepairNeed): string {
  const instead = repair.failedTo ? `${repair.failedTo} may still run instead of ${current ?? 'nothing'}` : `${current ?? 'nothing'} may not run`;
  return `rollback failed at ${repair.since} (${repair.reason}): ${instead}; the agent repairs it toward ${current ?? 'nothing'} at its next cycle once the engine answers`;
}

/** Without decisions (before the first accept, or when they could not be made) what is installed stays as it is. */
function installedOnly(state: StateSnapshot, reason: string): AppStatus[] {
  return Object.entries(state.apps).map(([app, installed]) => appStatus(state, app, installed.version, null, 'none', reason));
}

function appStatus(state: StateSnapshot, app: string, current: string | null, desired: string | null, decision: AppStatus['decision'], reason: string): AppStatus {
  const failed = state.failed[app];
  const repair = state.apps[app]?.repair;
  return {
    app,
    current,
    desired,
    decision,
    reason: (repair ? `${repairNote(current, repair)}; ${reason}` : reason).slice(0, 2000),
    state: runState(state, app),
    ...(failed ? { failedVersion: failed.version } : {}),
  };
}

/** The report's agent block: the running build, the decision about its own update, the versions kept off this node. */
export function agentUpdateStatus(running: string, decision: AgentUpdateDecision | null, failed: Readonly<Record<string, AgentBuildFailure>>): AgentUpdateStatus {
  return {
    current: running.slice(0, 64),
    desired: decision?.target ?? null,
    decision: decision?.decision ?? 'none',
    reason: (decision?.reason ?? 'no channel commit accepted yet').slice(0, 2000),
    failed: Object.values(failed)
      .slice(0, 50)
      .map((f) => ({ version: f.version, at: f.at, reason: f.reason.slice(0, 2000), step: f.step.slice(0, 64) })),
  };
}

/**
 * `duck status`'s lines about the agent's own build, in its label column, from the block a report
 * carries (status.agent): what runs, the update asked of it and why it waits, then each version kept
 * off this node. "asked", not "the group asks": an overlay pin asks too, and the reason says which.
 */
export function agentUpdateLines(agent: AgentUpdateStatus): string[] {
  const update = agent.desired !== null && agent.desired !== agent.current ? `; update to ${agent.desired}` : '';
  return [
    `agent      ${agent.current}${update}: ${agent.reason}`,
    ...agent.failed.map((f) => `failed     agent ${f.version} at ${f.at} (${f.step}): ${f.reason}; tried again when its release changes, or now with duck self-update --retry`),
  ];
}
