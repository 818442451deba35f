// Dashboard sessions: a random id in an HttpOnly cookie, valid until its expiry or a logout. The
// admin token itself never goes into the cookie. The store decides where sessions live
// (FleetStore.sessions): in this process's memory for the embedded store, which serves one
// controller — a restart logs everyone out, fine for a handful of people —, in the database for
// PostgreSQL, so every controller on it knows every session (store/pg-sessions.ts).
import { randomBytes } from 'node:crypto';

export const SESSION_COOKIE = 'duck_session';
export const SESSION_TTL_MS = 12 * 3_600_000;
/** Sessions kept at most; past it the oldest goes, so a login loop cannot grow the store. */
export const MAX_SESSIONS = 1000;

export interface SessionStore {
  readonly ttlMs: number;
  /** A new session's id, for the cookie. */
  create(): Promise<string>;
  /** Whether the id names a session that has not expired or been ended. */
  valid(id: string | undefined): Promise<boolean>;
  /** Ends the session (every controller on the store sees it ended). */
  delete(id: string | undefined): Promise<void>;
}

export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, number>();

  constructor(
    readonly ttlMs: number = SESSION_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async create(): Promise<string> {
    this.sweep();
    // Map order is insertion order: past the cap, the oldest session goes.
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const id = newSessionId();
    this.sessions.set(id, this.now() + this.ttlMs);
    return id;
  }

  async valid(id: string | undefined): Promise<boolean> {
    if (!id) return false;
    const expires = this.sessions.get(id);
    if (expires === undefined) return false;
    if (expires <= this.now()) {
      this.sessions.delete(id);
      return false;
    }
    return true;
  }

  async delete(id: string | undefined): Promise<void> {
    if (id) this.sessions.delete(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, expires] of this.sessions) if (expires <= now) this.sessions.delete(id);
  }
}
