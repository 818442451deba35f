// The fleet overview, computed in one pass over the agents (pure: records and the clock in, a
// plain value out). At 100,000 agents this is the hot read; see the bench group controller-reports.
import { AGENT_STATES, deriveAgentState, type AgentState } from './agent-state.js';
import type { AppStatus } from '../../schemas/index.js';
import { agentVersionsSummary, emptyAgentVersionTally, tallyAgentVersion, type AgentVersionTally, type AgentVersionsSummary } from './agent-versions.js';
import type { AgentRecord, AlertRecord, FailureRecord, OutcomeCounts } from './store/fleet-store.js';
import { bump, compareVersions, mostWanted, versionCounts, type VersionCount } from './version-counts.js';

export interface AppRollout {
  app: string;
  /** Running versions (agents with no version of the app are in total, not here). */
  versions: VersionCount[];
  /**
   * The rollout's target: the version the group file asks for on most agents (their groupVersion,
   * before any pin; an agent too old to say gives its desired version); null when none asks one.
   */
  desired: string | null;
  /** Unpinned agents running the target, of all unpinned agents: pinned ones are no part of the rollout. */
  upToDate: number;
  total: number;
  /** Agents whose operator pinned the app (counted apart from the rollout). */
  pinned: number;
  /** Agents where the app was stopped by an operator (duck stop). */
  stopped: number;
  /** Agents waiting for a maintenance window to change it. */
  windowWaits: number;
  /** Agents backing off after a failure that stopped nothing (no space, a download, the engine). */
  backingOff: number;
}

export interface GroupSummary {
  group: string;
  agents: number;
  /** Agents whose operator holds all changes (duck hold). */
  held: number;
  apps: AppRollout[];
  /** The agent's own builds in the group: versions running, the one asked for, versions that failed. */
  agent: AgentVersionsSummary;
}

export interface FleetSummary {
  generatedAt: string;
  agents: { total: number; byState: Record<AgentState, number> };
  staleChannels: number;
  /** Agents whose last channel fetch failed (network, deadline, server): they cannot see new commits. */
  unreachableChannels: number;
  groups: GroupSummary[];
  outcomes: OutcomeCounts[];
  recentFailures: FailureRecord[];
  alerts: AlertRecord[];
}

export interface SummaryInput {
  agents: readonly AgentRecord[];
  outcomes: OutcomeCounts[];
  recentFailures: FailureRecord[];
  alerts: AlertRecord[];
  now: Date;
  offlineAfterMs: number;
}

export function agentGroup(agent: AgentRecord): string {
  return agent.status?.group ?? agent.facts.group;
}

function emptyByState(): Record<AgentState, number> {
  return Object.fromEntries(AGENT_STATES.map((s) => [s, 0])) as Record<AgentState, number>;
}

interface AppTally {
  running: Map<string, number>;
  /** Running versions of unpinned agents: the rollout's progress. */
  unpinnedRunning: Map<string, number>;
  wanted: Map<string, number>;
  total: number;
  pinned: number;
  stopped: number;
  windowWaits: number;
  backingOff: number;
}

function emptyTally(): AppTally {
  return { running: new Map(), unpinnedRunning: new Map(), wanted: new Map(), total: 0, pinned: 0, stopped: 0, windowWaits: 0, backingOff: 0 };
}

/**
 * The version the group asks of this node: its groupVersion, not its desired one, so a pin does not
 * move the rollout's target; an agent too old to say gives its desired version.
 */
export function askedVersion(app: Pick<AppStatus, 'groupVersion' | 'desired'>): string | null {
  return app.groupVersion !== undefined ? app.groupVersion : app.desired;
}

function tallyApp(tally: AppTally, app: AppStatus): void {
  if (app.state === 'stopped') tally.stopped++;
  if (app.decision === 'wait' && app.waitingFor === 'window') tally.windowWaits++;
  if (app.backoff) tally.backingOff++;
  const asked = askedVersion(app);
  if (asked !== null) bump(tally.wanted, asked);
  if (app.current !== null) bump(tally.running, app.current);
  if (app.pinned) tally.pinned++;
  else {
    tally.total++;
    if (app.current !== null) bump(tally.unpinnedRunning, app.current);
  }
}

function rollout(app: string, tally: AppTally): AppRollout {
  const desired = mostWanted(tally.wanted);
  const versions = versionCounts(tally.running);
  const { total, pinned, stopped, windowWaits, backingOff } = tally;
  return { app, versions, desired, upToDate: desired === null ? 0 : (tally.unpinnedRunning.get(desired) ?? 0), total, pinned, stopped, windowWaits, backingOff };
}

export function summarizeFleet(input: SummaryInput): FleetSummary {
  const nowMs = input.now.getTime();
  const byState = emptyByState();
  let staleChannels = 0;
  let unreachableChannels = 0;
  const groups = new Map<string, { agents: number; held: number; apps: Map<string, AppTally>; agent: AgentVersionTally }>();
  for (const agent of input.agents) {
    byState[deriveAgentState(agent, nowMs, input.offlineAfterMs)]++;
    if (agent.status?.channel.stale) staleChannels++;
    if (agent.status?.channel.fetchFailure) unreachableChannels++;
    const name = agentGroup(agent);
    let group = groups.get(name);
    if (!group) groups.set(name, (group = { agents: 0, held: 0, apps: new Map(), agent: emptyAgentVersionTally() }));
    group.agents++;
    tallyAgentVersion(group.agent, agent);
    if (agent.status?.held) group.held++;
    for (const app of agent.status?.apps ?? []) {
      let tally = group.apps.get(app.app);
      if (!tally) group.apps.set(app.app, (tally = emptyTally()));
      tallyApp(tally, app);
    }
  }
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return {
    generatedAt: input.now.toISOString(),
    agents: { total: input.agents.length, byState },
    staleChannels,
    unreachableChannels,
    groups: [...groups.keys()].sort(byName).map((name) => {
      const group = groups.get(name)!;
      const apps = [...group.apps.keys()].sort(byName).map((app) => rollout(app, group.apps.get(app)!));
      return { group: name, agents: group.agents, held: group.held, apps, agent: agentVersionsSummary(group.agent) };
    }),
    outcomes: [...input.outcomes].sort(
      (a, b) => byName(a.group, b.group) || byName(a.app, b.app) || compareVersions(a.version, b.version),
    ),
    recentFailures: input.recentFailures,
    alerts: input.alerts,
  };
}
