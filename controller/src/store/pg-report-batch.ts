// The reports of one group commit, written in one transaction: the events of all of them in one
// INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING (idempotent by agent and event id, as the
// lowdb store), then the agents, outcome rows and failure log folded by report-fold.ts and written
// back. Rows are locked in one order — agents by id, outcome rows by key, then the failure log — so
// two controllers on one database wait for each other instead of deadlocking.
import type pg from 'pg';
import type { ReportEvent, ReportMessage } from '../../../schemas/index.js';
import { addFailure } from './failure-log.js';
import type { FailureRecord, OutcomeEntry, ReportResult } from './fleet-store.js';
import type { Settled } from './group-commit.js';
import { AGENT_COLUMNS, UPDATE_OUTCOMES, outcomeColumns, toOutcomeEntry, type AgentRow, type OutcomeRow } from './pg-rows.js';
import { countedKey, countsAsFailure, foldEvent, outcomeKey, type FoldTarget } from './report-fold.js';

export interface PendingReport {
  report: ReportMessage;
  receivedAt: Date;
}

const INSERT_EVENTS = `
  INSERT INTO events (agent_id, event_id, seq, received_at, body)
  SELECT a, e, nextval('event_seq'), r, b
  FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::jsonb[]) WITH ORDINALITY AS t(a, e, r, b, n)
  ORDER BY n
  ON CONFLICT (agent_id, event_id) DO NOTHING
  RETURNING agent_id, event_id`;

const UPDATE_AGENTS = `
  UPDATE agents a SET last_seen_at = u.seen, status = u.status, facts = u.facts, last_outcomes = u.outcomes,
    verdicts = u.verdicts, event_count = a.event_count + u.added
  FROM unnest($1::text[], $2::timestamptz[], $3::jsonb[], $4::jsonb[], $5::jsonb[], $6::jsonb[], $7::int[])
    AS u(id, seen, status, facts, outcomes, verdicts, added)
  WHERE a.agent_id = u.id
  RETURNING a.agent_id, a.event_count`;

/** Drops the oldest events of these agents past the cap (receive order). */
const TRIM_EVENTS = `
  DELETE FROM events e USING (
    SELECT agent_id, seq FROM (
      SELECT agent_id, seq, row_number() OVER (PARTITION BY agent_id ORDER BY seq DESC) AS rank
      FROM events WHERE agent_id = ANY($1::text[])
    ) ranked WHERE rank > $2
  ) old
  WHERE e.agent_id = old.agent_id AND e.seq = old.seq`;

const eventKey = (agentId: string, eventId: string): string => `${agentId}\u0000${eventId}`;

/** Each report's answer, in order; an agent that is not enrolled fails its report alone. */
export async function writeReports(client: pg.ClientBase, batch: readonly PendingReport[], maxEventsPerAgent: number): Promise<Settled<ReportResult>[]> {
  await client.query('BEGIN');
  try {
    const answers = await writeInTransaction(client, batch, maxEventsPerAgent);
    await client.query('COMMIT');
    return answers;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function writeInTransaction(client: pg.ClientBase, batch: readonly PendingReport[], maxEventsPerAgent: number): Promise<Settled<ReportResult>[]> {
  const ids = [...new Set(batch.map((p) => p.report.agentId))].sort();
  const agents = new Map<string, AgentRow>();
  const locked = await client.query<AgentRow>(
    `SELECT ${AGENT_COLUMNS}, verdicts, event_count FROM agents WHERE agent_id = ANY($1::text[]) ORDER BY agent_id FOR UPDATE`,
    [ids],
  );
  for (const row of locked.rows) agents.set(row.agent_id, row);

  // Each event once, as the first report in the batch carries it.
  const candidates = new Set<string>();
  const insert: [string[], string[], string[], string[]] = [[], [], [], []];
  for (const { report, receivedAt } of batch) {
    if (!agents.has(report.agentId)) continue;
    for (const event of report.events) {
      const key = eventKey(report.agentId, event.id);
      if (candidates.has(key)) continue;
      candidates.add(key);
      insert[0].push(report.agentId);
      insert[1].push(event.id);
      insert[2].push(receivedAt.toISOString());
      insert[3].push(JSON.stringify(event));
    }
  }
  const inserted = insert[0].length === 0 ? [] : (await client.query<{ agent_id: string; event_id: string }>(INSERT_EVENTS, insert)).rows;
  const accepted = new Set(inserted.map((r) => eventKey(r.agent_id, r.event_id)));
  // An event inserted now is new in the first report that carries it; every later sending is a duplicate.
  const taken = new Set<string>();
  const fresh = batch.map(({ report }) =>
    report.events.map((event) => {
      const key = eventKey(report.agentId, event.id);
      if (!accepted.has(key) || taken.has(key)) return false;
      taken.add(key);
      return true;
    }),
  );
  const newEvents = batch.flatMap(({ report }, index) => report.events.filter((_, i) => fresh[index]![i]).map((event) => ({ report, event })));

  const rows = await lockOutcomeRows(client, newEvents);
  const failures = newEvents.some(({ event }) => countsAsFailure(event)) ? await lockFailureLog(client) : null;

  const added = new Map<string, number>();
  const answers: Settled<ReportResult>[] = [];
  const touchedByReport: Map<string, OutcomeEntry>[] = [];
  batch.forEach(({ report, receivedAt }, index) => {
    const row = agents.get(report.agentId);
    if (!row) {
      answers.push({ ok: false, error: new Error(`agent ${report.agentId} is not enrolled`) });
      touchedByReport.push(new Map());
      return;
    }
    row.last_seen_at = receivedAt;
    row.status = report.status;
    if (report.facts) row.facts = report.facts;
    const target: FoldTarget = {
      agent: {
        agentId: row.agent_id,
        facts: row.facts,
        lastOutcomes: row.last_outcomes,
        verdicts: (row.verdicts ??= {}),
      },
      row: (group, app, version) => rows.get(outcomeKey(group, app, version))!,
      addFailure: (failure) => addFailure(failures!, failure),
    };
    const touched = new Map<string, OutcomeEntry>();
    const acceptedIds: string[] = [];
    for (const [i, event] of report.events.entries()) {
      if (!fresh[index]![i]) continue;
      acceptedIds.push(event.id);
      const changed = foldEvent(target, report.status.group, event);
      if (changed) touched.set(outcomeKey(changed.group, changed.app, changed.version), changed);
    }
    added.set(report.agentId, (added.get(report.agentId) ?? 0) + acceptedIds.length);
    touchedByReport.push(touched);
    answers.push({ ok: true, value: { accepted: acceptedIds.length, duplicates: report.events.length - acceptedIds.length, acceptedIds, touched: [] } });
  });

  const reported = [...agents.values()].filter((a) => added.has(a.agent_id));
  const counts = await client.query<{ agent_id: string; event_count: number }>(UPDATE_AGENTS, [
    reported.map((a) => a.agent_id),
    reported.map((a) => a.last_seen_at!.toISOString()),
    reported.map((a) => JSON.stringify(a.status)),
    reported.map((a) => JSON.stringify(a.facts)),
    reported.map((a) => JSON.stringify(a.last_outcomes)),
    reported.map((a) => JSON.stringify(a.verdicts ?? {})),
    reported.map((a) => added.get(a.agent_id) ?? 0),
  ]);
  if (rows.size > 0) await client.query(UPDATE_OUTCOMES, outcomeColumns([...rows.values()]));
  if (failures) await client.query(`UPDATE documents SET body = $1::jsonb WHERE name = 'recent-failures'`, [JSON.stringify(failures)]);
  const over = counts.rows.filter((r) => r.event_count > maxEventsPerAgent).map((r) => r.agent_id);
  if (over.length > 0) {
    await client.query(TRIM_EVENTS, [over, maxEventsPerAgent]);
    await client.query('UPDATE agents SET event_count = $2 WHERE agent_id = ANY($1::text[])', [over, maxEventsPerAgent]);
  }
  // Every report is answered with the rows as the whole batch left them, as the lowdb store does.
  answers.forEach((answer, index) => {
    if (answer.ok) answer.value.touched = [...touchedByReport[index]!.values()].map((r) => structuredClone(r));
  });
  return answers;
}

/** Makes the rows the new events count in (empty, in key order so concurrent batches lock alike) and locks them. */
async function lockOutcomeRows(client: pg.ClientBase, newEvents: { report: ReportMessage; event: ReportEvent }[]): Promise<Map<string, OutcomeEntry>> {
  const keys = new Map<string, { group: string; app: string; version: string }>();
  for (const { report, event } of newEvents) {
    const key = countedKey(report.status.group, event);
    if (key) keys.set(outcomeKey(key.group, key.app, key.version), key);
  }
  const rows = new Map<string, OutcomeEntry>();
  if (keys.size === 0) return rows;
  const columns = [[...keys.values()].map((k) => k.group), [...keys.values()].map((k) => k.app), [...keys.values()].map((k) => k.version)];
  await client.query(
    `INSERT INTO outcomes (grp, app, version) SELECT g, a, v FROM unnest($1::text[], $2::text[], $3::text[]) AS k(g, a, v)
     ORDER BY g, a, v ON CONFLICT DO NOTHING`,
    columns,
  );
  const locked = await client.query<OutcomeRow>(
    `SELECT o.* FROM outcomes o JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(g, a, v) ON o.grp = k.g AND o.app = k.a AND o.version = k.v
     ORDER BY o.grp, o.app, o.version FOR UPDATE OF o`,
    columns,
  );
  for (const row of locked.rows) rows.set(outcomeKey(row.grp, row.app, row.version), toOutcomeEntry(row));
  return rows;
}

async function lockFailureLog(client: pg.ClientBase): Promise<FailureRecord[]> {
  const result = await client.query<{ body: FailureRecord[] }>(`SELECT body FROM documents WHERE name = 'recent-failures' FOR UPDATE`);
  return result.rows[0]?.body ?? [];
}
