import { randomBytes } from 'node:crypto';

/** A console session lasts a working day; the operator logs in again with a new link after. */
export const SESSION_TTL_MS = 12 * 60 * 60_000;

/** The console's sessions, in memory: a restarted server logs everyone out, which is the safe way. */
export class ConsoleSessions {
  readonly #expiry = new Map<string, number>();

  open(now: Date): string {
    const id = randomBytes(32).toString('base64url');
    this.#expiry.set(id, now.getTime() + SESSION_TTL_MS);
    return id;
  }

  valid(id: string | undefined, now: Date): boolean {
    if (id === undefined) return false;
    const until = this.#expiry.get(id);
    if (until === undefined) return false;
    if (until > now.getTime()) return true;
    this.#expiry.delete(id);
    return false;
  }
}
