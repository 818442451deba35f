/**
 * The tip pointer's rules (DESIGN §4.5), pure: whether a poll asks the git host at all. The
 * pointer is untrusted — it only says whether to look — so its answer can delay a node, never
 * move it: whatever is fetched after it is verified as always.
 */

/** A pointer that cannot be read sends the node to the git host at most this often. */
export const POINTER_FALLBACK_MS = 10 * 60_000;

/**
 * The git host is asked at least this often whatever the pointer says: a pointer that lies
 * ("nothing new") delays a node by at most this, and freshness shows the delay meanwhile. Each
 * process asks between half of it and all of it after its last ask (its own `spread`), so a fleet
 * that fetched one release together does not come back to the git host together an hour later.
 */
export const POINTER_SAFETY_NET_MS = 60 * 60_000;

export interface PointerInput {
  readonly now: number;
  /** The id the pointer named; null when it could not be read or was malformed. */
  readonly named: string | null;
  /** The named commit is the accepted one or the local clone's tip, and the clone holds it. */
  readonly held: boolean;
  /** When this process last asked the git host (its start, before the first request). */
  readonly gitAskedAt: number;
  /** When this process last fell back to the git host for a failed pointer, or null. */
  readonly fallbackAt: number | null;
  /** This process's place in [0, 1) within the safety net's spread. */
  readonly spread: number;
}

export type PointerVerdict =
  /** The pointer names what the node has: no git request. */
  | { readonly ask: 'none' }
  | { readonly ask: 'git'; readonly why: 'moved' | 'safety-net' | 'fallback' }
  /** The pointer failed and the last fallback was recent: the git host is asked at `until`. */
  | { readonly ask: 'wait'; readonly until: number };

export function pointerVerdict(input: PointerInput): PointerVerdict {
  const { now } = input;
  if (input.named === null) {
    const due = input.fallbackAt === null ? now : input.fallbackAt + POINTER_FALLBACK_MS;
    return now >= due ? { ask: 'git', why: 'fallback' } : { ask: 'wait', until: due };
  }
  if (!input.held) return { ask: 'git', why: 'moved' };
  return now >= safetyNetDue(input.gitAskedAt, input.spread) ? { ask: 'git', why: 'safety-net' } : { ask: 'none' };
}

/** When the safety net's ask is due: between half an hour and an hour after the last ask. */
export function safetyNetDue(gitAskedAt: number, spread: number): number {
  return gitAskedAt + Math.floor(POINTER_SAFETY_NET_MS * (0.5 + Math.min(Math.max(spread, 0), 1) / 2));
}

/** A commit id as a pointer file holds it: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits, alone. */
export function parsePointer(text: string): string | null {
  const id = text.replace(/^\uFEFF/, '').trim();
  return /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(id) ? id : null;
}
