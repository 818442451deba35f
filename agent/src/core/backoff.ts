import type { AppBackoff } from './agent-state.js';

/** An exponential back-off: `minMs` after the first failure, doubling per failure up to `maxMs`. */
export interface BackoffPolicy {
  readonly minMs: number;
  readonly maxMs: number;
}

/**
 * A change that failed without stopping anything is tried again after 1 min, then 2, 4... up to
 * 1 h: a full disk or an unreachable engine rarely mends within one poll, and a failure every
 * poll only fills the history and the controller with the same event.
 */
export const CHANGE_BACKOFF: BackoffPolicy = { minMs: 60_000, maxMs: 60 * 60_000 };

/** The delay after the `failures`-th failure in a row (1-based): min · 2^(n-1), capped. */
export function exponentialMs(failures: number, policy: BackoffPolicy): number {
  return Math.min(policy.maxMs, policy.minMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
}

/** What failed, on which target: the facts a back-off is kept for. */
export interface ChangeFailure {
  readonly cause: string;
  readonly message: string;
  readonly version: string;
  readonly releaseDigest?: string;
}

/**
 * The back-off after one more failure: the count goes on when the cause and the target are the
 * ones already backing off, and starts again at 1 otherwise.
 */
export function nextBackoff(before: AppBackoff | undefined, failure: ChangeFailure, now: Date, policy: BackoffPolicy = CHANGE_BACKOFF): AppBackoff {
  const same = before !== undefined && before.cause === failure.cause && sameTarget(before, failure);
  const failures = same ? before.failures + 1 : 1;
  return {
    cause: failure.cause,
    message: failure.message,
    failures,
    since: same ? before.since : now.toISOString(),
    at: now.toISOString(),
    nextTryAt: new Date(now.getTime() + exponentialMs(failures, policy)).toISOString(),
    version: failure.version,
    ...(failure.releaseDigest ? { releaseDigest: failure.releaseDigest } : {}),
  };
}

/**
 * The back-off that still holds the change to `target` back at `now`, or null: one for another
 * release (the channel moved) or whose time has come does not.
 */
export function backoffInForce(backoff: AppBackoff | undefined, target: { version: string; releaseDigest?: string }, now: Date): AppBackoff | null {
  if (!backoff || !sameTarget(backoff, target)) return null;
  return Date.parse(backoff.nextTryAt) > now.getTime() ? backoff : null;
}

function sameTarget(a: { version: string; releaseDigest?: string }, b: { version: string; releaseDigest?: string }): boolean {
  // Without a digest on either side (an older state, an in-place change) the version decides.
  return a.version === b.version && (a.releaseDigest === undefined || b.releaseDigest === undefined || a.releaseDigest === b.releaseDigest);
}
