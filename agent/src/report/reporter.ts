import { randomUUID } from 'node:crypto';
import pRetry from 'p-retry';
import type { AgentStatus, NodeFacts, OverlayFile, ReportMessage } from '../../../schemas/index.js';
import type { Agent } from '../agent.js';
import type { ControllerClient } from '../adapters/controller-client.js';
import { controllerStatus, createControllerClient } from '../adapters/controller-client.js';
import type { Logger } from '../apply/apply-env.js';
import { channelFreshness } from '../channel/accept-channel.js';
import type { ControllerEnrollment } from '../core/agent-state.js';
import { toDuckError } from '../../../schemas/errors.js';
import { desiredAndPlan, readAcceptedLocally } from '../desired-state.js';
import type { BackoffPolicy } from './backoff.js';
import { backoffMs, isRetryable, REPORT_BACKOFF } from './backoff.js';
import { ensureEnrolled } from './enrollment.js';
import { nodeFacts } from './facts.js';
import { ackEvents, collectEvents, hasNews, nextBatch } from './outbox.js';
import { agentStatus } from './status.js';

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

export interface ReporterOptions {
  readonly log: Logger;
  /** The overlay the loop's watcher holds, for the decisions in the status. */
  readonly overlay: () => OverlayFile;
  readonly client?: ControllerClient;
  readonly backoff?: BackoffPolicy;
  readonly facts?: () => Promise<NodeFacts>;
}

/**
 * The agent's side of telemetry (DESIGN §4.5, §5), beside the reconcile loop: cycles only queue
 * events in the state; this sends them through p-retry, so a controller down for hours blocks no
 * cycle and loses nothing (the outbox is bounded, and a drop is itself reported).
 */
export function createReporter(agent: Agent, opts: ReporterOptions): Reporter {
  const settings = agent.config.controller;
  if (!settings) throw new Error('createReporter: the agent config has no controller section');
  const client = opts.client ?? createControllerClient(settings.url);
  const log = opts.log;
  const stopping = new AbortController();
  let factsOnce: Promise<NodeFacts> | null = null;
  const facts = (): Promise<NodeFacts> => (factsOnce ??= (opts.facts ?? (() => nodeFacts(agent.config.group)))());
  let factsSent = false;
  let pending = false;
  let wake: (() => void) | null = null;
  let running: Promise<void> | null = null;

  const poke = (): void => {
    pending = true;
    wake?.();
  };

  async function status(): Promise<AgentStatus> {
    const group = agent.config.group;
    try {
      const view = await readAcceptedLocally(agent);
      if (!view) return agentStatus({ state: agent.state.read(), group, desired: null, stale: false });
      const { desired } = await desiredAndPlan(agent, view, { overlay: opts.overlay() });
      const state = agent.state.read();
      const anchor = state.channel.anchor;
      const stale = anchor ? channelFreshness(view.content.channel.freshness, new Date(anchor.committedAt), agent.clock()).stale : false;
      return agentStatus({ state, group, desired, stale });
    } catch (err) {
      const message = toDuckError(err).message;
      log('report-status-failed', { message });
      return agentStatus({ state: agent.state.read(), group, desired: null, stale: false, undecided: `decisions unavailable: ${message}` });
    }
  }

  /** One report; a 401/403 means the controller no longer knows our token: enroll again, once. */
  async function send(enrollment: ControllerEnrollment, message: ReportMessage, signal: AbortSignal): Promise<ControllerEnrollment> {
    try {
      await client.report(enrollment.token, message, signal);
      return enrollment;
    } catch (err) {
      const code = controllerStatus(err);
      if (code !== 401 && code !== 403) throw err;
      const again = await ensureEnrolled(agent, client, { facts, log, again: true, signal });
      await client.report(again.token, message, signal);
      return again;
    }
  }

  /** Sends the outbox in batches of at most 500 until it is empty; at least one status report. */
  async function flush(signal: AbortSignal): Promise<void> {
    let enrollment = await ensureEnrolled(agent, client, { facts, log, signal });
    // One status per flush: resolving the accepted commit again for every batch would change nothing.
    const current = await status();
    for (let i = 0; i < MAX_BATCHES_PER_FLUSH; i++) {
      let batch: ReturnType<typeof nextBatch> = [];
      await agent.state.update((s) => void (batch = structuredClone(nextBatch(s.outbox, { now: agent.clock(), newId: randomUUID }))));
      const message: ReportMessage = {
        agentId: enrollment.agentId,
        sentAt: agent.clock().toISOString(),
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
      await agent.state.update((s) => ackEvents(s.outbox, batch.map((e) => e.id)));
      log('report-sent', { events: batch.length, ms: Date.now() - started });
      const left = agent.state.read().outbox;
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
          const retryInMs = backoffMs(attemptNumber, Math.random(), opts.backoff ?? REPORT_BACKOFF);
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
    let due = 0;
    // Bounded by the stop signal: each turn either sends or sleeps until the interval or a poke.
    while (!stopping.signal.aborted) {
      if (pending || Date.now() >= due) {
        pending = false;
        await flushWithRetry();
        due = Date.now() + settings!.intervalMs;
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
      if (!hasNews(agent.state.read())) return 0;
      let queued = 0;
      await agent.state.update((s) => void (queued = collectEvents(s, settings.outboxLimit)));
      if (queued > 0) poke();
      return queued;
    },
    start: () => {
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
