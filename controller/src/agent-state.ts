// One word for how an agent is, derived from its last report and the clock. Worst wins, in the
// order of AGENT_STATES (as gitops-engine orders health): an agent with a failed app is `failed`
// even when it is also offline. `unreachable`: its last channel fetch failed, so whatever it runs
// is what it last accepted, not what the channel says now — never `ok`.
import type { AgentStatus } from '../../schemas/index.js';
import type { AgentRecord } from './store/fleet-store.js';

export const AGENT_STATES = ['failed', 'refused', 'unreachable', 'stale', 'offline', 'updating', 'waiting', 'ok'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export function isAgentState(value: string): value is AgentState {
  return (AGENT_STATES as readonly string[]).includes(value);
}

export type StateFacts = Pick<AgentRecord, 'status' | 'lastSeenAt' | 'enrolledAt' | 'lastOutcomes'>;

function anyApp(status: AgentStatus | null, test: (app: AgentStatus['apps'][number]) => boolean): boolean {
  return status !== null && status.apps.some(test);
}

/** The agent's state at `nowMs`; an agent that never reported counts from its enrollment. */
export function deriveAgentState(agent: StateFacts, nowMs: number, offlineAfterMs: number): AgentState {
  const { status } = agent;
  if (anyApp(status, (a) => a.state === 'failed') || Object.values(agent.lastOutcomes).includes('rollback-failed')) return 'failed';
  if (status?.channel.refusal) return 'refused';
  if (status?.channel.fetchFailure) return 'unreachable';
  if (status?.channel.stale) return 'stale';
  const seenMs = Date.parse(agent.lastSeenAt ?? agent.enrolledAt);
  if (!(nowMs - seenMs <= offlineAfterMs)) return 'offline';
  if (anyApp(status, (a) => a.decision === 'apply')) return 'updating';
  if (anyApp(status, (a) => a.decision === 'wait')) return 'waiting';
  return 'ok';
}
