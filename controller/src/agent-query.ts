// What the read API shows of one agent, and the filters of GET /api/v1/agents (pure).
import type { AppStatus, ChannelStatus } from '../../schemas/index.js';
import { deriveAgentState, isAgentState, type AgentState } from './agent-state.js';
import { agentGroup } from './fleet-summary.js';
import type { AgentRecord } from './store/fleet-store.js';

export interface AgentSummary {
  agentId: string;
  hostname: string;
  group: string;
  os: string;
  arch: string;
  agentVersion: string;
  docker: string | null;
  compose: string | null;
  enrolledAt: string;
  lastSeenAt: string | null;
  state: AgentState;
  /** An operator holds all changes on this node (duck hold). */
  held: boolean;
  channel: ChannelStatus | null;
  apps: AppStatus[];
}

export interface AgentFilter {
  group?: string;
  app?: string;
  version?: string;
  state?: AgentState;
}

export function toAgentSummary(agent: AgentRecord, nowMs: number, offlineAfterMs: number): AgentSummary {
  const { facts } = agent;
  return {
    agentId: agent.agentId,
    hostname: facts.hostname,
    group: agentGroup(agent),
    os: facts.os,
    arch: facts.arch,
    agentVersion: facts.agentVersion,
    docker: facts.docker ?? null,
    compose: facts.compose ?? null,
    enrolledAt: agent.enrolledAt,
    lastSeenAt: agent.lastSeenAt,
    state: deriveAgentState(agent, nowMs, offlineAfterMs),
    held: agent.status?.held ?? false,
    channel: agent.status?.channel ?? null,
    apps: agent.status?.apps ?? [],
  };
}

export type Query = Record<string, string | string[] | undefined>;

/** One query parameter: its first value, undefined when absent or empty. */
export function queryValue(query: Query, key: string): string | undefined {
  const raw = query[key];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined || value === '' ? undefined : value;
}

/** Reads the query string; an unknown state is refused by name rather than matching nothing. */
export function parseAgentFilter(query: Query): AgentFilter | { error: string; field: string } {
  const filter: AgentFilter = {};
  for (const key of ['group', 'app', 'version', 'state'] as const) {
    const value = queryValue(query, key);
    if (value === undefined) continue;
    if (key === 'state') {
      if (!isAgentState(value)) return { error: `state "${value}" is not an agent state`, field: 'state' };
      filter.state = value;
    } else filter[key] = value;
  }
  return filter;
}

/** app: an agent running that app; version: running that version (of `app` when given, of any app otherwise). */
export function matchesFilter(summary: AgentSummary, filter: AgentFilter): boolean {
  if (filter.group !== undefined && summary.group !== filter.group) return false;
  if (filter.state !== undefined && summary.state !== filter.state) return false;
  if (filter.app === undefined && filter.version === undefined) return true;
  return summary.apps.some(
    (a) => a.current !== null && (filter.app === undefined || a.app === filter.app) && (filter.version === undefined || a.current === filter.version),
  );
}

export function byHostnameThenId(a: AgentSummary, b: AgentSummary): number {
  if (a.hostname !== b.hostname) return a.hostname < b.hostname ? -1 : 1;
  return a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0;
}
