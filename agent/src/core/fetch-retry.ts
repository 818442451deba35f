import type { BackoffPolicy } from './backoff.js';
import { exponentialMs } from './backoff.js';
import { stableOffsetMs } from './poll-schedule.js';

/**
 * A server's Retry-After is honoured up to this: a header asking for a day (or a hostile one)
 * must not blind a node for longer than an hour.
 */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

/** A throttled answer without Retry-After backs off from one interval, doubling, up to this many intervals. */
export const THROTTLE_MAX_INTERVALS = 8;

/** HTTP statuses that say "too much, later": the channel's retry time honours them. */
export const THROTTLE_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/**
 * Retry-After as RFC 9110 §10.2.3 has it: delay-seconds or an HTTP-date, as milliseconds from
 * `now`, capped at MAX_RETRY_AFTER_MS; null when absent or unreadable (the back-off decides then).
 */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  // An HTTP-date always names its day and zone ("Sun, 06 Nov 1994 08:49:37 GMT"): no bare numbers here.
  if (!/GMT$/.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/** What a failed channel request said about when to come back. */
export interface FetchThrottle {
  /** The HTTP status (429, 503). */
  readonly status: number;
  /** The Retry-After header as sent, if any. */
  readonly retryAfter?: string;
}

export interface FetchRetryInput {
  readonly now: number;
  /** The node's next poll on its grid: never earlier than this. */
  readonly nextPoll: number;
  readonly intervalMs: number;
  /** Failed fetches in a row, this one included (1-based). */
  readonly failures: number;
  readonly throttle: FetchThrottle | null;
  readonly agentId: string;
}

/**
 * When a channel fetch that failed is tried again (DESIGN §4.5): the next poll, or — when the
 * server throttled — no earlier than its Retry-After, or without one a back-off doubling from one
 * interval up to THROTTLE_MAX_INTERVALS with "equal jitter" (half fixed, half spread by the node's
 * id), so a fleet throttled together does not come back together.
 */
export function fetchRetryAt(input: FetchRetryInput): number {
  const { now, nextPoll, throttle } = input;
  if (!throttle) return nextPoll;
  const asked = parseRetryAfter(throttle.retryAfter, now);
  if (asked !== null) return Math.max(nextPoll, now + asked);
  const policy: BackoffPolicy = { minMs: input.intervalMs, maxMs: THROTTLE_MAX_INTERVALS * input.intervalMs };
  const full = exponentialMs(input.failures, policy);
  const jitter = stableOffsetMs(`throttle ${input.failures}`, input.agentId, Math.max(1, Math.floor(full / 2)));
  return Math.max(nextPoll, now + Math.ceil(full / 2) + jitter);
}
