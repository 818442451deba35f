// Dashboard sessions in PostgreSQL (migration 002): a login through one controller is good on every
// controller of the database, and a logout through any ends it on all. Rows hold the sha256 of the
// id, never the id. Each check is one lookup by primary key; expired rows go when a session is made.
import type pg from 'pg';
import { MAX_SESSIONS, SESSION_TTL_MS, newSessionId, type SessionStore } from '../sessions.js';
import { hashToken } from '../tokens.js';

/** Expired sessions, and past the newest MAX_SESSIONS - 1 the oldest, go before a new one is made. */
const SWEEP = `
  DELETE FROM sessions WHERE expires_at <= $1 OR id_hash IN (
    SELECT id_hash FROM sessions ORDER BY created_at DESC, id_hash OFFSET $2
  )`;

export class PgSessionStore implements SessionStore {
  constructor(
    private readonly pool: pg.Pool,
    readonly ttlMs: number = SESSION_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async create(): Promise<string> {
    const now = this.now();
    await this.pool.query(SWEEP, [new Date(now), MAX_SESSIONS - 1]);
    const id = newSessionId();
    await this.pool.query('INSERT INTO sessions (id_hash, expires_at, created_at) VALUES ($1, $2, $3)', [hashToken(id), new Date(now + this.ttlMs), new Date(now)]);
    return id;
  }

  async valid(id: string | undefined): Promise<boolean> {
    if (!id) return false;
    const result = await this.pool.query('SELECT 1 FROM sessions WHERE id_hash = $1 AND expires_at > $2', [hashToken(id), new Date(this.now())]);
    return result.rowCount === 1;
  }

  async delete(id: string | undefined): Promise<void> {
    if (id) await this.pool.query('DELETE FROM sessions WHERE id_hash = $1', [hashToken(id)]);
  }
}
