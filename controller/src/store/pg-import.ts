// An embedded store's fleet (fleet.json) copied into an empty PostgreSQL store, for
// `duck-controller migrate-store`. importPlan() turns the file into the rows of each table (pure);
// importFleet() writes them in one transaction, with the tables locked against writers, so the
// database holds either the whole fleet or nothing of it. Event ids travel as they are, so a
// report an agent sends again after the move is still a duplicate; agents keep their token
// hashes, so their tokens go on working.
import type pg from 'pg';
import type { FleetFile } from './fleet-data.js';
import { RELEASED } from './fleet-store.js';
import { outcomeColumns } from './pg-rows.js';

/** What a move copies, by kind of record. */
export interface ImportCounts {
  agents: number;
  /** Agents whose id an operator released (no token), among `agents`. */
  released: number;
  events: number;
  outcomes: number;
  failures: number;
  alerts: number;
  diagnostics: number;
}

type Column = (string | number | null)[];

export interface ImportPlan {
  counts: ImportCounts;
  /** Parallel columns per table, in the order the store keeps: enrollment, receive, upload, record order. */
  agents: Column[];
  events: Column[];
  outcomes: unknown[];
  alerts: Column[];
  diagnostics: Column[];
  failures: string;
}

/** Rows per statement: a bound on one message's size, whatever the fleet's. */
const CHUNK = 5_000;

const INSERT_AGENTS = `
  INSERT INTO agents (agent_id, token_hash, facts, enrolled_at, last_seen_at, status, last_outcomes, verdicts, event_count)
  SELECT id, hash, facts, enrolled, seen, status, outcomes, verdicts, events
  FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::timestamptz[], $5::timestamptz[], $6::jsonb[], $7::jsonb[], $8::jsonb[], $9::int[])
    WITH ORDINALITY AS t(id, hash, facts, enrolled, seen, status, outcomes, verdicts, events, n)
  ORDER BY n`;

const INSERT_EVENTS = `
  INSERT INTO events (agent_id, event_id, seq, received_at, body)
  SELECT a, e, nextval('event_seq'), r, b
  FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::jsonb[]) WITH ORDINALITY AS t(a, e, r, b, n)
  ORDER BY n`;

const INSERT_OUTCOMES = `
  INSERT INTO outcomes (grp, app, version, applied, rolled_back, rollback_failed, deferred, failed, interrupted,
    nodes_applied, nodes_release_failed, nodes_infrastructure_failed, failed_agents)
  SELECT grp, app, version, applied, rolled_back, rollback_failed, deferred, failed, interrupted,
    nodes_applied, nodes_release_failed, nodes_infrastructure_failed, ARRAY(SELECT jsonb_array_elements_text(failed_agents))
  FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[], $9::int[],
              $10::int[], $11::int[], $12::int[], $13::jsonb[])
    AS u(grp, app, version, applied, rolled_back, rollback_failed, deferred, failed, interrupted,
         nodes_applied, nodes_release_failed, nodes_infrastructure_failed, failed_agents)`;

const INSERT_ALERTS = `
  INSERT INTO alerts (grp, app, version, body)
  SELECT g, a, v, b FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[]) WITH ORDINALITY AS t(g, a, v, b, n) ORDER BY n`;

const INSERT_DIAGNOSTICS = `
  INSERT INTO diagnostics (id, agent_id, filename, bytes, sha256, received_at)
  SELECT i, a, f, b, s, r FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::timestamptz[])
    WITH ORDINALITY AS t(i, a, f, b, s, r, n) ORDER BY n`;

/** What the database holds already; a move goes only into a store where all of it is zero. */
const HELD = `
  SELECT (SELECT count(*) FROM agents)::int AS agents, (SELECT count(*) FROM outcomes)::int AS outcomes,
    (SELECT count(*) FROM alerts)::int AS alerts, (SELECT count(*) FROM diagnostics)::int AS diagnostics,
    (SELECT coalesce(sum(jsonb_array_length(body)), 0) FROM documents WHERE name = 'recent-failures')::int AS failures`;

const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

/** The rows of each table for this fleet file (normalized by FleetData), and their counts. */
export function importPlan(file: FleetFile): ImportPlan {
  const agents: Column[] = [[], [], [], [], [], [], [], [], []];
  const events: Column[] = [[], [], [], []];
  let eventCount = 0;
  for (const a of file.agents) {
    // An id twice would break the primary key, not the fleet: the store never writes one twice.
    const ids = new Set<string>();
    for (const { receivedAt, ...event } of a.events) {
      if (ids.has(event.id)) continue;
      ids.add(event.id);
      events[0]!.push(a.agentId);
      events[1]!.push(event.id);
      events[2]!.push(receivedAt);
      events[3]!.push(JSON.stringify(event));
    }
    eventCount += ids.size;
    const row = [a.agentId, a.tokenHash, JSON.stringify(a.facts), a.enrolledAt, a.lastSeenAt, json(a.status), JSON.stringify(a.lastOutcomes), JSON.stringify(a.verdicts ?? {}), ids.size];
    row.forEach((value, i) => agents[i]!.push(value));
  }
  const alerts: Column[] = [file.alerts.map((a) => a.group), file.alerts.map((a) => a.app), file.alerts.map((a) => a.version), file.alerts.map((a) => JSON.stringify(a))];
  const d = file.diagnostics;
  const diagnostics: Column[] = [d.map((r) => r.id), d.map((r) => r.agentId), d.map((r) => r.filename), d.map((r) => r.bytes), d.map((r) => r.sha256), d.map((r) => r.receivedAt)];
  return {
    counts: {
      agents: file.agents.length,
      released: file.agents.filter((a) => a.tokenHash === RELEASED).length,
      events: eventCount,
      outcomes: file.outcomes.length,
      failures: file.recentFailures.length,
      alerts: file.alerts.length,
      diagnostics: file.diagnostics.length,
    },
    agents,
    events,
    outcomes: outcomeColumns(file.outcomes.map((o) => ({ ...o, failedAgents: o.failedAgents ?? [] }))),
    alerts,
    diagnostics,
    failures: JSON.stringify(file.recentFailures),
  };
}

/** The database already holds a fleet: the move would mix two, so it is refused. */
export class TargetNotEmptyError extends Error {
  override readonly name = 'TargetNotEmptyError';
}

async function insertChunked(client: pg.ClientBase, sql: string, columns: readonly Column[]): Promise<void> {
  const rows = columns[0]!.length;
  for (let start = 0; start < rows; start += CHUNK) {
    await client.query(sql, columns.map((c) => c.slice(start, start + CHUNK)));
  }
}

/**
 * Writes the plan into a migrated, empty store in one transaction. `beforeCommit` runs last inside
 * it: throwing there (the source changed meanwhile) leaves the database as it was.
 */
export async function importFleet(client: pg.ClientBase, plan: ImportPlan, beforeCommit: () => Promise<void> = async () => undefined): Promise<void> {
  await client.query('BEGIN');
  try {
    // Writers (a controller already serving on this database) wait until the move is whole or gone.
    await client.query('LOCK TABLE agents, events, outcomes, alerts, diagnostics, documents IN EXCLUSIVE MODE');
    const held = (await client.query<Record<string, number>>(HELD)).rows[0]!;
    const nonZero = Object.entries(held).filter(([, n]) => n > 0);
    if (nonZero.length > 0) {
      throw new TargetNotEmptyError(`the database already holds a fleet (${nonZero.map(([what, n]) => `${n} ${what}`).join(', ')}): move into an empty one`);
    }
    await insertChunked(client, INSERT_AGENTS, plan.agents);
    await insertChunked(client, INSERT_EVENTS, plan.events);
    if (plan.counts.outcomes > 0) await client.query(INSERT_OUTCOMES, plan.outcomes);
    await insertChunked(client, INSERT_ALERTS, plan.alerts);
    await insertChunked(client, INSERT_DIAGNOSTICS, plan.diagnostics);
    await client.query(`UPDATE documents SET body = $1::jsonb WHERE name = 'recent-failures'`, [plan.failures]);
    await beforeCommit();
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
