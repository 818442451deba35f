// Pure: when to try the controller again, and which failures are worth another try.
import { DuckError } from '../../../schemas/errors.js';
import type { BackoffPolicy } from '../core/backoff.js';
import { exponentialMs } from '../core/backoff.js';

export type { BackoffPolicy } from '../core/backoff.js';

export const REPORT_BACKOFF: BackoffPolicy = { minMs: 1_000, maxMs: 5 * 60_000 };

/**
 * Exponential with "equal jitter": half of the ceiling fixed, half random, so a fleet that lost
 * its controller together does not come back in one wave. `random` is in [0, 1).
 */
export function backoffMs(attempt: number, random: number, policy: BackoffPolicy = REPORT_BACKOFF): number {
  const ceiling = exponentialMs(attempt, policy);
  return Math.max(policy.minMs, Math.round(ceiling / 2 + (random * ceiling) / 2));
}

/** The controller client classes its failures: a network error, a 5xx or a 429 may pass by itself. */
export function isRetryable(err: unknown): boolean {
  return err instanceof DuckError && err.code === 'fetch' && err.retry === 'transient';
}

/** The HTTP status of a controller failure (0: no answer at all), or null for any other error. */
export function controllerStatus(err: unknown): number | null {
  if (!(err instanceof DuckError) || err.code !== 'fetch' || typeof err.data.status !== 'number') return null;
  return err.data.status;
}
