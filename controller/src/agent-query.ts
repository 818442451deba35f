// What the read API shows of one agent, and the filters and page of GET /api/v1/agents (pure).
import type { AgentUpdateStatus, AppStatus, ChannelStatus } from '../../schemas/index.js';
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
  /** The agent's own build: the version asked of it, the decision, versions that failed; null from agents too old to say. */
  agentUpdate: AgentUpdateStatus | null;
}

export interface AgentFilter {
  group?: string;
  app?: string;
  version?: string;
  state?: AgentState;
  /** Running this version of the duck agent itself. */
  agentVersion?: string;
  /** Where this version of the duck agent failed a self-update. */
  agentFailed?: string;
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
    agentUpdate: agent.status?.agent ?? null,
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
  for (const key of ['group', 'app', 'version', 'state', 'agentVersion', 'agentFailed'] as const) {
    const value = queryValue(query, key);
    if (value === undefined) continue;
    if (key === 'state') {
      if (!isAgentState(value)) return { error: `state "${value}" is not an agent state`, field: 'state' };
      filter.state = value;
    } else filter[key] = value;
  }
  return filter;
}

/** Agents per page of GET /api/v1/agents when the query names none, and the most it may ask. */
export const DEFAULT_AGENT_PAGE = 500;
export const MAX_AGENT_PAGE = 2000;

export interface AgentPageQuery {
  /** The last agent id of the previous page; null for the first. */
  after: string | null;
  limit: number;
}

/** `?limit=&after=`: a limit outside 1..MAX_AGENT_PAGE is refused by name rather than clamped in silence. */
export function parseAgentPage(query: Record<string, string | string[] | undefined>): AgentPageQuery | { error: string; field: string } {
  const first = (key: string): string | undefined => {
    const raw = query[key];
    const value = Array.isArray(raw) ? raw[0] : raw;
    return value === '' ? undefined : value;
  };
  const rawLimit = first('limit');
  const limit = rawLimit === undefined ? DEFAULT_AGENT_PAGE : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AGENT_PAGE) {
    return { error: `limit "${rawLimit}" must be a whole number from 1 to ${MAX_AGENT_PAGE}`, field: 'limit' };
  }
  return { after: first('after') ?? null, limit };
}

/**
 * app: an agent running that app; version: running that version (of `app` when given, of any app
 * otherwise); agentVersion: running that duck agent; agentFailed: where that duck agent version failed.
 */
export function matchesFilter(summary: AgentSummary, filter: AgentFilter): boolean {
  if (filter.group !== undefined && summary.group !== filter.group) return false;
  if (filter.state !== undefined && summary.state !== filter.state) return false;
  if (filter.agentVersion !== undefined && summary.agentVersion !== filter.agentVersion) return false;
  if (filter.agentFailed !== undefined && !summary.agentUpdate?.failed.some((f) => f.version === filter.agentFailed)) return false;
  if (filter.app === undefined && filter.version === undefined) return true;
  return summary.apps.some(
    (a) => a.current !== null && (filter.app === undefined || a.app === filter.app) && (filter.version === undefined || a.current === filter.version),
  );
}
