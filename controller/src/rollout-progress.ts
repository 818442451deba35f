// How far a version got in a group, from the agents' last reports (pure: records and the clock in,
// a plain value out). The controller stays telemetry-only: it learns the rollout's target from what
// the nodes say the group asks of them, never from the channel itself. `duck release gate`, the
// dashboard and the /metrics gauges all read this one model.
import type { AppStatus } from '../../schemas/index.js';
import { verdictOf } from './change-verdict.js';
import { agentGroup, askedVersion } from './fleet-summary.js';
import { bump, mostWanted } from './version-counts.js';
import type { AgentRecord, StoredEvent } from './store/fleet-store.js';

/**
 * Where one node stands on the target version, each node in exactly one bucket, first match wins
 * (the order of NODE_PLACES): a pin or a hold takes the node out of the rollout whatever it runs;
 * a node that runs the target healthy counts as such even if an earlier try failed there (a retry
 * worked); a failure is the release's or the node's (change-verdict's split).
 */
export const NODE_PLACES = ['pinned', 'held', 'healthy', 'releaseFailed', 'infrastructureFailed', 'offline', 'window', 'rollout', 'updating', 'other'] as const;
export type NodePlace = (typeof NODE_PLACES)[number];
export type PlaceCounts = Record<NodePlace, number>;

export interface CommitCount {
  commit: string;
  nodes: number;
}

export interface TimelineEntry {
  at: string;
  agentId: string;
  /** The change's outcome on that node (applied, rolled-back, …). */
  outcome: string;
  /** Nodes that had applied the version by then, each node once. */
  applied: number;
}

export interface RolloutProgress {
  group: string;
  app: string;
  /** The version most nodes say the group asks for; null when none asks one. */
  desired: string | null;
  /** The version counted: the one asked about, else `desired`. */
  version: string | null;
  /** Accepted channel commits of the nodes with the app, most common first. */
  commits: CommitCount[];
  /** Nodes of the group that report the app. */
  total: number;
  counts: PlaceCounts;
}

export interface RolloutFilter {
  group?: string;
  app?: string;
  /** Count against this version instead of the group's desired one (the gate asks of its own). */
  version?: string;
}

export interface ProgressInput {
  agents: readonly AgentRecord[];
  now: Date;
  offlineAfterMs: number;
  filter?: RolloutFilter;
}

export function emptyPlaceCounts(): PlaceCounts {
  return Object.fromEntries(NODE_PLACES.map((p) => [p, 0])) as PlaceCounts;
}

/** Nodes that take part in the rollout: all but the pinned ones, which follow their own version. */
export function inRollout(p: Pick<RolloutProgress, 'total' | 'counts'>): number {
  return p.total - p.counts.pinned;
}

interface NodeFacts {
  agent: AgentRecord;
  app: AppStatus;
  online: boolean;
}

/** The one bucket a node falls in for `target`. */
export function placeOf({ agent, app, online }: NodeFacts, target: string | null): NodePlace {
  if (app.pinned) return 'pinned';
  if (agent.status?.held || app.waitingFor === 'hold') return 'held';
  const runsTarget = target !== null && app.current === target;
  if (runsTarget && online && (app.state === undefined || app.state === 'running')) return 'healthy';
  const verdict = agent.verdicts?.[app.app];
  const tried = verdict !== undefined && verdict.version === target ? verdict.verdict : null;
  if ((target !== null && app.failedVersion === target) || tried === 'release-failed') return 'releaseFailed';
  if (tried === 'infrastructure-failed' || (app.backoff !== undefined && askedVersion(app) === target)) return 'infrastructureFailed';
  if (!online) return 'offline';
  if (app.decision === 'wait' && app.waitingFor === 'window') return 'window';
  if (app.decision === 'wait' && app.waitingFor === 'rollout') return 'rollout';
  if (app.decision === 'apply') return 'updating';
  return 'other';
}

interface Tally {
  nodes: NodeFacts[];
  wanted: Map<string, number>;
  commits: Map<string, number>;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** One entry per (group, app) that some node reports, sorted by group then app. */
export function rolloutProgress(input: ProgressInput): RolloutProgress[] {
  const nowMs = input.now.getTime();
  const filter = input.filter ?? {};
  const tallies = new Map<string, Map<string, Tally>>();
  for (const agent of input.agents) {
    const group = agentGroup(agent);
    if (filter.group !== undefined && group !== filter.group) continue;
    const online = nowMs - Date.parse(agent.lastSeenAt ?? agent.enrolledAt) <= input.offlineAfterMs;
    for (const app of agent.status?.apps ?? []) {
      if (filter.app !== undefined && app.app !== filter.app) continue;
      let apps = tallies.get(group);
      if (!apps) tallies.set(group, (apps = new Map()));
      let tally = apps.get(app.app);
      if (!tally) apps.set(app.app, (tally = { nodes: [], wanted: new Map(), commits: new Map() }));
      tally.nodes.push({ agent, app, online });
      const asked = askedVersion(app);
      if (asked !== null) bump(tally.wanted, asked);
      const commit = agent.status?.channel.commit;
      if (commit) bump(tally.commits, commit);
    }
  }
  const out: RolloutProgress[] = [];
  for (const group of [...tallies.keys()].sort(byName)) {
    const apps = tallies.get(group)!;
    for (const app of [...apps.keys()].sort(byName)) {
      const tally = apps.get(app)!;
      const desired = mostWanted(tally.wanted);
      const version = filter.version ?? desired;
      const counts = emptyPlaceCounts();
      for (const node of tally.nodes) counts[placeOf(node, version)]++;
      const commits = [...tally.commits].map(([commit, nodes]) => ({ commit, nodes })).sort((a, b) => b.nodes - a.nodes || byName(a.commit, b.commit));
      out.push({ group, app, desired, version, commits, total: tally.nodes.length, counts });
    }
  }
  return out;
}

/**
 * The rollout's history from the events already stored: each change of the app to `version`, oldest
 * first, with how many nodes had applied it by then. Bounded to the newest `limit` entries (the
 * counts still include the older ones).
 */
export function rolloutTimeline(eventsByAgent: ReadonlyMap<string, readonly StoredEvent[]>, app: string, version: string, limit: number): TimelineEntry[] {
  const changes: { at: string; agentId: string; outcome: string }[] = [];
  for (const [agentId, events] of eventsByAgent) {
    for (const e of events) {
      if (e.app === app && e.to === version && e.outcome !== undefined && verdictOf(e) !== null) changes.push({ at: e.at, agentId, outcome: e.outcome });
    }
  }
  changes.sort((a, b) => byName(a.at, b.at) || byName(a.agentId, b.agentId));
  const applied = new Set<string>();
  const entries = changes.map((c) => {
    if (c.outcome === 'applied') applied.add(c.agentId);
    return { ...c, applied: applied.size };
  });
  return entries.slice(Math.max(0, entries.length - limit));
}
