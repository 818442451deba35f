// Dashboard sessions: a random id in an HttpOnly cookie, kept in memory with an expiry. The admin
// token itself never goes into the cookie. A restart logs everyone out, which is fine for a
// handful of people; the map is bounded so a login loop cannot grow it.
import { randomBytes } from 'node:crypto';

export const SESSION_COOKIE = 'duck_session';
const MAX_SESSIONS = 1000;

export class SessionStore {
  private readonly sessions = new Map<string, number>();

  constructor(
    readonly ttlMs: number = 12 * 3_600_000,
    private readonly now: () => number = Date.now,
  ) {}

  create(): string {
    this.sweep();
    // Map order is insertion order: past the cap, the oldest session goes.
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, this.now() + this.ttlMs);
    return id;
  }

  valid(id: string | undefined): boolean {
    if (!id) return false;
    const expires = this.sessions.get(id);
    if (expires === undefined) return false;
    if (expires <= this.now()) {
      this.sessions.delete(id);
      return false;
    }
    return true;
  }

  delete(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, expires] of this.sessions) if (expires <= now) this.sessions.delete(id);
  }
}
