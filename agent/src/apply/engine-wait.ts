import pRetry from 'p-retry';
import { isEngineUnreachable } from '../core/engine-fault.js';

/**
 * Waiting out a Docker outage (issue 12 §6): a call the engine did not answer is tried again with
 * backoff, for at most `maxMs` in all; any other failure, and the engine still silent at the
 * bound, is thrown as it came. Used where giving up would leave an app half-changed: after the
 * stop, in the health wait, in a rollback and in a repair. Before anything stopped, a change fails
 * at once instead: the old version still serves, and the next cycle tries again.
 */
export interface EngineWait {
  /** How long an outage is waited out before the call fails (apply.engineWait; 0: not at all). */
  readonly maxMs: number;
  readonly signal?: AbortSignal | null;
  /** Told of each failed attempt, so a long wait shows in the log. */
  readonly onWait?: (message: string, attempt: number) => void;
}

/** Backoff between attempts: 0.5 s doubling up to 10 s, so an engine that is back is seen within seconds. */
const FIRST_MS = 500;
const LONGEST_MS = 10_000;

export async function waitOutEngine<T>(call: () => Promise<T>, wait: EngineWait): Promise<T> {
  if (wait.maxMs <= 0) return call();
  return pRetry(call, {
    retries: Number.POSITIVE_INFINITY,
    minTimeout: FIRST_MS,
    maxTimeout: LONGEST_MS,
    factor: 2,
    maxRetryTime: wait.maxMs,
    ...(wait.signal ? { signal: wait.signal } : {}),
    shouldRetry: ({ error }) => isEngineUnreachable(error),
    onFailedAttempt: ({ error, attemptNumber }) => {
      if (isEngineUnreachable(error)) wait.onWait?.(error.message, attemptNumber);
    },
  });
}
