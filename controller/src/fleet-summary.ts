// The fleet overview, computed in one pass over the agents (pure: records and the clock in, a
// plain value out). At 100,000 agents this is the hot read; see the bench group controller-reports.
import { AGENT_STATES, deriveAgentState, type AgentState } from './agent-state.js';
import type { AgentRecord, AlertRecord, FailureRecord, OutcomeCounts } from './store/fleet-store.js';

export interface VersionCount {
  version: string;
  agents: number;
}

export interface AppRollout {
  app: string;
  /** Running versions (agents with no version of the app are in total, not here). */
  versions: VersionCount[];
  /** The version most agents of the group want; null when none wants one. */
  desired: string | null;
  upToDate: number;
  total: number;
}

export interface GroupSummary {
  group: string;
  agents: number;
  apps: AppRollout[];
}

export interface FleetSummary {
  generatedAt: string;
  agents: { total: number; byState: Record<AgentState, number> };
  staleChannels: number;
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

/** Version order for display and ties: numeric parts compare as numbers ("1.10.0" after "1.9.0"). */
export const compareVersions = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

export function agentGroup(agent: AgentRecord): string {
  return agent.status?.group ?? agent.facts.group;
}

function emptyByState(): Record<AgentState, number> {
  return Object.fromEntries(AGENT_STATES.map((s) => [s, 0])) as Record<AgentState, number>;
}

interface AppTally {
  running: Map<string, number>;
  wanted: Map<string, number>;
  total: number;
}

/** The most wanted version; a tie goes to the higher version (a rollout moves forward). */
function mostWanted(wanted: Map<string, number>): string | null {
  let best: string | null = null;
  let bestCount = 0;
  for (const [version, count] of wanted) {
    if (count > bestCount || (count === bestCount && best !== null && compareVersions(version, best) > 0)) {
      best = version;
      bestCount = count;
    }
  }
  return best;
}

function rollout(app: string, tally: AppTally): AppRollout {
  const desired = mostWanted(tally.wanted);
  const versions = [...tally.running].map(([version, agents]) => ({ version, agents })).sort((a, b) => compareVersions(a.version, b.version));
  return { app, versions, desired, upToDate: desired === null ? 0 : (tally.running.get(desired) ?? 0), total: tally.total };
}

export function summarizeFleet(input: SummaryInput): FleetSummary {
  const nowMs = input.now.getTime();
  const byState = emptyByState();
  let staleChannels = 0;
  const groups = new Map<string, { agents: number; apps: Map<string, AppTally> }>();
  for (const agent of input.agents) {
    byState[deriveAgentState(agent, nowMs, input.offlineAfterMs)]++;
    if (agent.status?.channel.stale) staleChannels++;
    const name = agentGroup(agent);
    let group = groups.get(name);
    if (!group) groups.set(name, (group = { agents: 0, apps: new Map() }));
    group.agents++;
    for (const app of agent.status?.apps ?? []) {
      let tally = group.apps.get(app.app);
      if (!tally) group.apps.set(app.app, (tally = { running: new Map(), wanted: new Map(), total: 0 }));
      tally.total++;
      if (app.current !== null) tally.running.set(app.current, (tally.running.get(app.current) ?? 0) + 1);
      if (app.desired !== null) tally.wanted.set(app.desired, (tally.wanted.get(app.desired) ?? 0) + 1);
    }
  }
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return {
    generatedAt: input.now.toISOString(),
    agents: { total: input.agents.length, byState },
    staleChannels,
    groups: [...groups.keys()].sort(byName).map((name) => {
      const group = groups.get(name)!;
      const apps = [...group.apps.keys()].sort(byName).map((app) => rollout(app, group.apps.get(app)!));
      return { group: name, agents: group.agents, apps };
    }),
    outcomes: [...input.outcomes].sort(
      (a, b) => byName(a.group, b.group) || byName(a.app, b.app) || compareVersions(a.version, b.version),
    ),
    recentFailures: input.recentFailures,
    alerts: input.alerts,
  };
}
