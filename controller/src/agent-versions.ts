// The agent's own builds across a group (DESIGN §4.7): which agent versions run, which one the group
// asks for, and which versions failed a self-update on its nodes. Pure, folded one agent at a time
// into the fleet summary's single pass.
import type { AgentRecord } from './store/fleet-store.js';
import { bump, mostWanted, versionCounts, type VersionCount } from './version-counts.js';

export interface AgentVersionsSummary {
  /** Running agent versions (the facts' agentVersion: every agent reports it, old ones too). */
  versions: VersionCount[];
  /** The agent version most of the group's agents are asked to run; null when none reports one. */
  desired: string | null;
  /** Agents running `desired`. */
  upToDate: number;
  /** Agents whose self-update waits (a window, a hold, an approval, a pin). */
  waiting: number;
  /** Agent versions marked failed on the group's nodes: nodes per version, each node once. */
  failed: VersionCount[];
}

export interface AgentVersionTally {
  running: Map<string, number>;
  wanted: Map<string, number>;
  failed: Map<string, number>;
  waiting: number;
}

export function emptyAgentVersionTally(): AgentVersionTally {
  return { running: new Map(), wanted: new Map(), failed: new Map(), waiting: 0 };
}

export function tallyAgentVersion(tally: AgentVersionTally, agent: Pick<AgentRecord, 'facts' | 'status'>): void {
  bump(tally.running, agent.facts.agentVersion);
  const update = agent.status?.agent;
  if (!update) return;
  if (update.desired !== null) bump(tally.wanted, update.desired);
  if (update.decision === 'wait') tally.waiting++;
  // A node lists a version once; a repeat in one report still counts the node once. Most nodes
  // list none, and this runs for every agent of the fleet summary: no allocation for them.
  const { failed } = update;
  if (failed.length === 1) bump(tally.failed, failed[0]!.version);
  else if (failed.length > 1) for (const version of new Set(failed.map((f) => f.version))) bump(tally.failed, version);
}

export function agentVersionsSummary(tally: AgentVersionTally): AgentVersionsSummary {
  const desired = mostWanted(tally.wanted);
  return {
    versions: versionCounts(tally.running),
    desired,
    upToDate: desired === null ? 0 : (tally.running.get(desired) ?? 0),
    waiting: tally.waiting,
    failed: versionCounts(tally.failed),
  };
}
