// The FleetStore on PostgreSQL (--store postgres://… or DUCK_STORE_URL), for fleets past what one
// JSON file rewritten per batch can carry. Opening runs the migrations (pg-migrations.ts, under an
// advisory lock). Reports are group-committed like the lowdb store's, one transaction per batch
// (pg-report-batch.ts); everything else is one statement. Reads go to the database each time, so
// nothing another controller on the same database writes is missed.
import pg from 'pg';
import type { NodeFacts, ReportMessage } from '../../../schemas/index.js';
import type { Log } from '../log.js';
import {
  MAX_EVENTS_PER_AGENT,
  type AgentPage,
  RELEASED,
  StoreOpenError,
  type AgentRecord,
  type AlertDispatch,
  type AlertRecord,
  type AlertSend,
  type DiagnosticRecord,
  type FailureRecord,
  type FleetStore,
  type OutcomeCounts,
  type PruneResult,
  type ReportResult,
  type RetentionPolicy,
  type StoredEvent,
} from './fleet-store.js';
import { BatchQueue } from './group-commit.js';
import { ALERT_CHANNEL, PgAlertLeader, type AlertLeaderOptions } from './pg-alert-leader.js';
import { migrate, readMigrations } from './pg-migrations.js';
import { writeReports, type PendingReport } from './pg-report-batch.js';
import { PgSessionStore } from './pg-sessions.js';
import { AGENT_COLUMNS, redactUrl, toAgentRecord, toDiagnosticRecord, toOutcomeEntry, type AgentRow, type DiagnosticRow, type OutcomeRow } from './pg-rows.js';

export interface PgStoreOptions {
  maxEventsPerAgent?: number;
  /** Connections kept open (node-postgres pool); default 10. The alert leader holds one more of its own. */
  poolSize?: number;
  alertLeader?: AlertLeaderOptions;
}

/** Pending, for the alert leader to send; the NOTIFY wakes it on whichever controller it runs (sent on commit). */
const RECORD_ALERT = `
  WITH recorded AS (
    INSERT INTO alerts (grp, app, version, body, delivery) VALUES ($1, $2, $3, $4, 'pending') ON CONFLICT DO NOTHING RETURNING 1
  )
  SELECT pg_notify('${ALERT_CHANNEL}', '') FROM recorded`;

const REGISTER = `
  INSERT INTO agents (agent_id, token_hash, facts, enrolled_at) VALUES ($1, $2, $3, $4)
  ON CONFLICT (agent_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, facts = EXCLUDED.facts
    WHERE NOT $5 OR agents.token_hash = ''
  RETURNING ${AGENT_COLUMNS}`;

/**
 * Locks the agents with expired events (in id order, as a report batch does, so the two never
 * deadlock), deletes those events and takes them off their agents' counts; answers how many.
 */
const PRUNE_EVENTS = `
  WITH locked AS (
    SELECT agent_id FROM agents WHERE agent_id IN (SELECT DISTINCT agent_id FROM events WHERE received_at < $1)
    ORDER BY agent_id FOR UPDATE
  ),
  gone AS (DELETE FROM events WHERE received_at < $1 AND agent_id IN (SELECT agent_id FROM locked) RETURNING agent_id),
  per_agent AS (SELECT agent_id, count(*)::int AS n FROM gone GROUP BY agent_id),
  fixed AS (UPDATE agents a SET event_count = a.event_count - p.n FROM per_agent p WHERE a.agent_id = p.agent_id RETURNING p.n)
  SELECT coalesce(sum(n), 0)::int AS events FROM fixed`;

/** Bundles past their age, and past the newest `$2` of their agent (upload order; none by count when null). */
const PRUNE_DIAGNOSTICS = `
  DELETE FROM diagnostics WHERE received_at < $1 OR id IN (
    SELECT id FROM (
      SELECT id, row_number() OVER (PARTITION BY agent_id ORDER BY seq DESC) AS rank FROM diagnostics WHERE received_at >= $1
    ) ranked WHERE rank > $2::int
  )
  RETURNING *`;

export class PgFleetStore implements FleetStore {
  private closed = false;
  private readonly reports: BatchQueue<PendingReport, ReportResult>;
  readonly sessions: PgSessionStore;

  private constructor(
    readonly location: string,
    /** With its password: the alert leader opens a connection of its own. */
    private readonly url: string,
    private readonly pool: pg.Pool,
    private readonly health: { writeFailed: boolean },
    private readonly maxEventsPerAgent: number,
    private readonly leaderOptions: AlertLeaderOptions,
  ) {
    this.sessions = new PgSessionStore(pool);
    this.reports = new BatchQueue((batch) => this.write(() => this.withClient((client) => writeReports(client, batch, this.maxEventsPerAgent))));
  }

  /** Connects, brings the schema up to date and answers; a database that cannot be used is a StoreOpenError naming it. */
  static async open(url: string, opts: PgStoreOptions = {}): Promise<PgFleetStore> {
    const location = redactUrl(url);
    const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10 });
    const health = { writeFailed: false };
    // A connection the server dropped while idle: the pool replaces it; /healthz says so until a write works.
    pool.on('error', () => {
      health.writeFailed = true;
    });
    try {
      const migrations = await readMigrations();
      const client = await pool.connect();
      try {
        await migrate(client, migrations);
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new StoreOpenError(location, (err as Error).message, { cause: err });
    }
    return new PgFleetStore(location, url, pool, health, opts.maxEventsPerAgent ?? MAX_EVENTS_PER_AGENT, opts.alertLeader ?? {});
  }

  private async withClient<T>(use: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await use(client);
    } finally {
      client.release();
    }
  }

  /** Runs a write, keeping healthy() true to what the last write did. */
  private async write<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error(`${this.location}: the store is closed`);
    try {
      const result = await run();
      this.health.writeFailed = false;
      return result;
    } catch (err) {
      this.health.writeFailed = true;
      throw err;
    }
  }

  private query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    if (this.closed) return Promise.reject(new Error(`${this.location}: the store is closed`));
    return this.pool.query<R>(text, values);
  }

  async register(agentId: string, facts: NodeFacts, tokenHash: string, now: Date, opts: { onlyNew?: boolean } = {}): Promise<AgentRecord | null> {
    const result = await this.write(() => this.query<AgentRow>(REGISTER, [agentId, tokenHash, JSON.stringify(facts), now.toISOString(), opts.onlyNew === true]));
    const row = result.rows[0];
    return row ? toAgentRecord(row) : null;
  }

  async releaseEnrollment(agentId: string): Promise<boolean> {
    const result = await this.write(() => this.query('UPDATE agents SET token_hash = $2 WHERE agent_id = $1', [agentId, RELEASED]));
    return result.rowCount === 1;
  }

  async agentIdForTokenHash(tokenHash: string): Promise<string | null> {
    if (tokenHash === RELEASED) return null;
    // The second condition lets the planner use the partial index on token hashes.
    const result = await this.query<{ agent_id: string }>(`SELECT agent_id FROM agents WHERE token_hash = $1 AND token_hash <> ''`, [tokenHash]);
    return result.rows[0]?.agent_id ?? null;
  }

  recordReport(report: ReportMessage, receivedAt: Date): Promise<ReportResult> {
    if (this.closed) return Promise.reject(new Error(`${this.location}: the store is closed`));
    return this.reports.submit({ report, receivedAt });
  }

  async recordAlert(alert: AlertRecord): Promise<boolean> {
    const result = await this.write(() =>
      this.query(RECORD_ALERT, [
        alert.group,
        alert.app,
        alert.version,
        JSON.stringify(alert),
      ]),
    );
    return result.rowCount === 1;
  }

  dispatchAlerts(send: AlertSend, log: Log): AlertDispatch {
    return new PgAlertLeader(this.url, this.pool, send, log, this.leaderOptions);
  }

  async addDiagnostic(record: DiagnosticRecord): Promise<void> {
    await this.write(() =>
      this.query('INSERT INTO diagnostics (id, agent_id, filename, bytes, sha256, received_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        record.id,
        record.agentId,
        record.filename,
        record.bytes,
        record.sha256,
        record.receivedAt,
      ]),
    );
  }

  async getAgent(agentId: string): Promise<AgentRecord | null> {
    const result = await this.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE agent_id = $1`, [agentId]);
    const row = result.rows[0];
    return row ? toAgentRecord(row) : null;
  }

  async listAgents(): Promise<readonly AgentRecord[]> {
    return (await this.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents ORDER BY seq`)).rows.map(toAgentRecord);
  }

  async listAgentsPage(after: string | null, limit: number): Promise<AgentPage> {
    // Keyset on the primary key: the page costs the same at any depth, unlike OFFSET.
    const [page, count] = await Promise.all([
      after === null
        ? this.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents ORDER BY agent_id LIMIT $1`, [limit])
        : this.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE agent_id > $1 ORDER BY agent_id LIMIT $2`, [after, limit]),
      this.query<{ total: number }>('SELECT count(*)::int AS total FROM agents'),
    ]);
    return { agents: page.rows.map(toAgentRecord), total: count.rows[0]!.total };
  }

  async events(agentId: string, limit: number): Promise<StoredEvent[]> {
    const result = await this.query<{ body: StoredEvent; received_at: Date }>(
      'SELECT body, received_at FROM events WHERE agent_id = $1 ORDER BY seq DESC LIMIT $2',
      [agentId, limit],
    );
    return result.rows.map((r) => ({ ...r.body, receivedAt: r.received_at.toISOString() }));
  }

  async diagnostics(agentId?: string): Promise<DiagnosticRecord[]> {
    const result =
      agentId === undefined
        ? await this.query<DiagnosticRow>('SELECT * FROM diagnostics ORDER BY seq DESC')
        : await this.query<DiagnosticRow>('SELECT * FROM diagnostics WHERE agent_id = $1 ORDER BY seq DESC', [agentId]);
    return result.rows.map(toDiagnosticRecord);
  }

  async getDiagnostic(id: string): Promise<DiagnosticRecord | null> {
    const row = (await this.query<DiagnosticRow>('SELECT * FROM diagnostics WHERE id = $1', [id])).rows[0];
    return row ? toDiagnosticRecord(row) : null;
  }

  async outcomes(): Promise<OutcomeCounts[]> {
    const result = await this.query<OutcomeRow>('SELECT * FROM outcomes ORDER BY grp, app, version');
    return result.rows.map((row) => {
      const { failedAgents: _, ...counts } = toOutcomeEntry(row);
      return counts;
    });
  }

  async recentFailures(limit: number): Promise<FailureRecord[]> {
    const result = await this.query<{ body: FailureRecord[] }>(`SELECT body FROM documents WHERE name = 'recent-failures'`);
    return (result.rows[0]?.body ?? []).slice(-limit).reverse();
  }

  async alerts(): Promise<AlertRecord[]> {
    return (await this.query<{ body: AlertRecord }>('SELECT body FROM alerts ORDER BY seq')).rows.map((r) => r.body);
  }

  async prune(now: Date, policy: RetentionPolicy): Promise<PruneResult> {
    const eventCutoff = new Date(now.getTime() - policy.eventRetentionMs).toISOString();
    const diagCutoff = new Date(now.getTime() - policy.diagnosticsRetentionMs).toISOString();
    return this.write(async () => {
      const events = (await this.query<{ events: number }>(PRUNE_EVENTS, [eventCutoff])).rows[0]?.events ?? 0;
      const gone = await this.query<DiagnosticRow>(PRUNE_DIAGNOSTICS, [diagCutoff, policy.diagnosticsPerAgent ?? null]);
      // In upload order, as the lowdb store answers.
      const diagnostics = gone.rows.sort((a, b) => Number(a.seq) - Number(b.seq)).map(toDiagnosticRecord);
      return { events, diagnostics };
    });
  }

  healthy(): boolean {
    return !this.health.writeFailed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.reports.idle();
    this.closed = true;
    await this.pool.end();
  }
}
