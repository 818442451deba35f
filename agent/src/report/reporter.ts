import { randomUUID } from 'node:crypto';
import pRetry from 'p-retry';
import type { AgentStatus, NodeFacts, ReportEvent, ReportMessage } from '../../../schemas/index.js';
import { toDuckError } from '../../../schemas/errors.js';
import type { ControllerEnrollment } from '../core/agent-state.js';
import type { Clock, ControllerClient, Logger, StateStore } from '../ports.js';
import type { BackoffPolicy } from './backoff.js';
import { backoffMs, controllerStatus, isRetryable, REPORT_BACKOFF } from './backoff.js';
import { nextPollAt } from '../core/poll-schedule.js';
import { ackEvents, batchOf, collectEvents, hasNews, sealDrops } from './outbox.js';

/** SIGTERM: one last send, bounded so a dead controller cannot hold up a service manager's stop. */
export const FINAL_SEND_MS = 2_000;
/** Reports one flush sends back to back before it yields to the interval: bounds the loop. */
const MAX_BATCHES_PER_FLUSH = 100;

export interface Reporter {
  /** Queues what happened since the last call (state only, never the network) and wakes the sender. */
  collect(): Promise<number>;
  /** Starts sending in the background: every interval, and at once after a collect found news. */
  start(): void;
  /** Stops the background sender, then makes one last send bounded by `finalMs`. */
  stop(finalMs?: number): Promise<void>;
}

/** What the reporter needs, handed in by the node's wiring. */
export interface ReporterDeps {
  readonly state: StateStore;
  readonly clock: Clock;
  readonly client: ControllerClient;
  readonly intervalMs: number;
  /**
   * When timed reports go: at `offsetMs` within each interval, the first one `startDelayMs` after
   * start, so a fleet's reports do not land in lockstep. Without it: at once, then every interval.
   */
  readonly schedule?: { readonly offsetMs: number; readonly startDelayMs: number };
  readonly outboxLimit: number;
  readonly log: Logger;
  /** The enrollment in the state, enrolling first when there is none (or `again`: the controller forgot us). */
  enroll(opts: { again?: boolean; signal?: AbortSignal }): Promise<ControllerEnrollment>;
  facts(): Promise<NodeFacts>;
  /** The status a report carries: from the daemon's last cycle and the state, never a new plan. */
  status(): AgentStatus;
  readonly backoff?: BackoffPolicy;
}

/**
 * The agent's side of telemetry (DESIGN §4.5, §5), beside the reconcile loop: cycles only queue
 * events in the state; this sends them through p-retry, so a controller down for hours blocks no
 * cycle and loses nothing (the outbox is bounded, and a drop is itself reported).
 */
export function createReporter(deps: ReporterDeps): Reporter {
  const { client, log, state, clock } = deps;
  const stopping = new AbortController();
  let factsOnce: Promise<NodeFacts> | null = null;
  const facts = (): Promise<NodeFacts> => (factsOnce ??= deps.facts());
  let factsSent = false;
  let statusSent: string | null = null;
  let pending = false;
  let wake: (() => void) | null = null;
  let running: Promise<void> | null = null;

  const poke = (): void => {
    pending = true;
    wake?.();
  };

  /** One report; a 401/403 means the controller no longer knows our token: enroll again, once. */
  async function send(enrollment: ControllerEnrollment, message: ReportMessage, signal: AbortSignal): Promise<ControllerEnrollment> {
    try {
      await client.report(enrollment.token, message, signal);
      return enrollment;
    } catch (err) {
      const code = controllerStatus(err);
      if (code !== 401 && code !== 403) throw err;
      const again = await deps.enroll({ again: true, signal });
      await client.report(again.token, message, signal);
      return again;
    }
  }

  /** Sends the outbox in batches of at most 500 until it is empty; at least one status report. */
  async function flush(signal: AbortSignal): Promise<void> {
    let enrollment = await deps.enroll({ signal });
    const current = deps.status();
    for (let i = 0; i < MAX_BATCHES_PER_FLUSH; i++) {
      const sealed = await state.update((s) => sealDrops(s.outbox, { now: clock(), newId: randomUUID }));
      const batch = structuredClone(batchOf(sealed.outbox)) as ReportEvent[];
      const message: ReportMessage = {
        agentId: enrollment.agentId,
        sentAt: clock().toISOString(),
        ...(factsSent ? {} : { facts: await facts() }),
        status: current,
        events: batch,
      };
      const started = Date.now();
      try {
        enrollment = await send(enrollment, message, signal);
      } catch (err) {
        if (controllerStatus(err) === 400) log('report-rejected', { field: toDuckError(err).data.field ?? null, message: toDuckError(err).message, events: batch.length });
        throw err;
      }
      factsSent = true;
      statusSent = JSON.stringify(current);
      await state.update((s) => ackEvents(s.outbox, batch.map((e) => e.id)));
      log('report-sent', { events: batch.length, ms: Date.now() - started });
      const left = state.read().outbox;
      if (left.events.length === 0 && left.dropped === 0) return;
    }
  }

  async function flushWithRetry(): Promise<void> {
    try {
      await pRetry(() => flush(stopping.signal), {
        retries: Infinity,
        // The delay is ours (below), so the log can say when the next try comes.
        minTimeout: 0,
        signal: stopping.signal,
        shouldRetry: async ({ error, attemptNumber }) => {
          const message = toDuckError(error).message;
          if (!isRetryable(error)) {
            log('report-failed', { attempt: attemptNumber, message, retryInMs: null });
            return false;
          }
          const retryInMs = backoffMs(attemptNumber, Math.random(), deps.backoff ?? REPORT_BACKOFF);
          log('report-failed', { attempt: attemptNumber, message, retryInMs });
          await sleep(retryInMs, stopping.signal);
          return !stopping.signal.aborted;
        },
      });
    } catch {
      // Logged above, or stopping: the events stay queued for the next send.
    }
  }

  async function background(): Promise<void> {
    let due = Date.now() + (deps.schedule?.startDelayMs ?? 0);
    // Bounded by the stop signal: each turn either sends or sleeps until the interval or a poke.
    while (!stopping.signal.aborted) {
      if (pending || Date.now() >= due) {
        pending = false;
        await flushWithRetry();
        due = deps.schedule ? nextPollAt(Date.now(), deps.intervalMs, deps.schedule.offsetMs) : Date.now() + deps.intervalMs;
        continue;
      }
      const woken = new AbortController();
      wake = () => woken.abort();
      await sleep(Math.max(0, due - Date.now()), AbortSignal.any([stopping.signal, woken.signal]));
      wake = null;
    }
  }

  return {
    collect: async () => {
      // A decision that changed (a wait that became a change, a new commit) is news as well.
      if (statusSent !== null && JSON.stringify(deps.status()) !== statusSent) poke();
      if (!hasNews(state.read())) return 0;
      let queued = 0;
      await state.update((s) => void (queued = collectEvents(s, deps.outboxLimit)));
      if (queued > 0) poke();
      return queued;
    },
    start: () => {
      // Docker and compose are probed now, while the first report waits for its turn: a slow
      // probe must not push the report past this node's offset.
      facts().catch(() => undefined);
      running ??= background();
    },
    stop: async (finalMs = FINAL_SEND_MS) => {
      stopping.abort();
      await running;
      const bound = new AbortController();
      const timer = setTimeout(() => bound.abort(new Error(`no answer within ${finalMs} ms`)), finalMs);
      try {
        // The race bounds what the signal cannot reach (a slow Docker probe for the facts).
        await Promise.race([flush(bound.signal), new Promise((_, reject) => bound.signal.addEventListener('abort', () => reject(bound.signal.reason as Error)))]);
      } catch (err) {
        log('report-failed', { attempt: 1, message: toDuckError(err).message, retryInMs: null, final: true });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
