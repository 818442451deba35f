// Rows of the PostgreSQL schema (controller/migrations/) as the store's records, and back. Times
// come back from node-postgres as Dates and leave as the ISO strings the lowdb store keeps; a
// bigint comes back as a string.
import type { AgentStatus, ChangeOutcome, NodeFacts } from '../../../schemas/index.js';
import type { AgentRecord, CountedVerdict, DiagnosticRecord, OutcomeEntry } from './fleet-store.js';

export const AGENT_COLUMNS = 'agent_id, token_hash, facts, enrolled_at, last_seen_at, status, last_outcomes';

export interface AgentRow {
  agent_id: string;
  token_hash: string;
  facts: NodeFacts;
  enrolled_at: Date;
  last_seen_at: Date | null;
  status: AgentStatus | null;
  last_outcomes: Record<string, ChangeOutcome>;
  verdicts?: Record<string, CountedVerdict>;
  event_count?: number;
}

export function toAgentRecord(row: AgentRow): AgentRecord {
  return {
    agentId: row.agent_id,
    tokenHash: row.token_hash,
    facts: row.facts,
    enrolledAt: row.enrolled_at.toISOString(),
    lastSeenAt: row.last_seen_at ? row.last_seen_at.toISOString() : null,
    status: row.status,
    lastOutcomes: row.last_outcomes,
  };
}

export interface OutcomeRow {
  grp: string;
  app: string;
  version: string;
  applied: number;
  rolled_back: number;
  rollback_failed: number;
  deferred: number;
  failed: number;
  interrupted: number;
  nodes_applied: number;
  nodes_release_failed: number;
  nodes_infrastructure_failed: number;
  failed_agents: string[];
}

export function toOutcomeEntry(row: OutcomeRow): OutcomeEntry {
  return {
    group: row.grp,
    app: row.app,
    version: row.version,
    applied: row.applied,
    rolledBack: row.rolled_back,
    rollbackFailed: row.rollback_failed,
    deferred: row.deferred,
    failed: row.failed,
    interrupted: row.interrupted,
    nodes: { applied: row.nodes_applied, releaseFailed: row.nodes_release_failed, infrastructureFailed: row.nodes_infrastructure_failed },
    failedAgents: row.failed_agents,
  };
}

/** The columns of outcome rows as parallel arrays, for one UPDATE … FROM unnest(…). */
export function outcomeColumns(rows: readonly OutcomeEntry[]): unknown[] {
  const column = <T>(pick: (row: OutcomeEntry) => T): T[] => rows.map(pick);
  return [
    column((r) => r.group),
    column((r) => r.app),
    column((r) => r.version),
    column((r) => r.applied),
    column((r) => r.rolledBack),
    column((r) => r.rollbackFailed),
    column((r) => r.deferred),
    column((r) => r.failed),
    column((r) => r.interrupted),
    column((r) => r.nodes.applied),
    column((r) => r.nodes.releaseFailed),
    column((r) => r.nodes.infrastructureFailed),
    // text[][] must be rectangular, so each row's failed agents travel as one JSON array.
    column((r) => JSON.stringify(r.failedAgents)),
  ];
}

export const UPDATE_OUTCOMES = `
  UPDATE outcomes o SET applied = u.applied, rolled_back = u.rolled_back, rollback_failed = u.rollback_failed,
    deferred = u.deferred, failed = u.failed, interrupted = u.interrupted, nodes_applied = u.nodes_applied,
    nodes_release_failed = u.nodes_release_failed, nodes_infrastructure_failed = u.nodes_infrastructure_failed,
    failed_agents = ARRAY(SELECT jsonb_array_elements_text(u.failed_agents))
  FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[], $9::int[],
              $10::int[], $11::int[], $12::int[], $13::jsonb[])
    AS u(grp, app, version, applied, rolled_back, rollback_failed, deferred, failed, interrupted,
         nodes_applied, nodes_release_failed, nodes_infrastructure_failed, failed_agents)
  WHERE o.grp = u.grp AND o.app = u.app AND o.version = u.version`;

export interface DiagnosticRow {
  id: string;
  agent_id: string;
  filename: string;
  bytes: string;
  sha256: string;
  received_at: Date;
  /** Upload order. */
  seq: string;
}

export function toDiagnosticRecord(row: DiagnosticRow): DiagnosticRecord {
  return { id: row.id, agentId: row.agent_id, filename: row.filename, bytes: Number(row.bytes), sha256: row.sha256, receivedAt: row.received_at.toISOString() };
}

/** A connection URL without its password, for messages and `location`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(an unparsable database URL)';
  }
}
