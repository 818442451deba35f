// Pure: the report outbox in the agent state. Events wait here until a report that carried them
// got a 2xx; the functions mutate the outbox they are given, inside one agent.state.update.
import type { ReportEvent } from '../../../schemas/index.js';
import type { AgentState, ReportOutbox } from '../core/agent-state.js';
import type { StateSnapshot } from '../ports.js';
import { eventOfHistory, eventOfRefusal, historySince } from './events.js';

/** At most this many events per report; the rest go in the reports that follow at once. */
export const REPORT_BATCH_LIMIT = 500;
/** Reports stay well under the controller's 1 MiB body cap, whatever the events' reasons hold. */
export const REPORT_BATCH_BYTES = 640 * 1024;

/**
 * Queues the history entries and the channel refusal not queued yet, and moves the cursor.
 * Returns how many events were queued (0: nothing new happened).
 */
export function collectEvents(state: AgentState, limit: number): number {
  const fresh = historySince(state.history, state.outbox.historyCursor);
  let queued = queueEvents(state.outbox, fresh.map(eventOfHistory), limit);
  const last = state.history.at(-1);
  if (last) state.outbox.historyCursor = last.id;
  const refusal = state.channel.lastRefusal;
  if (refusal) {
    const event = eventOfRefusal(refusal);
    if (state.outbox.refusalQueued !== event.id) {
      queued += queueEvents(state.outbox, [event], limit);
      state.outbox.refusalQueued = event.id;
    }
  }
  return queued;
}

/** Whether collectEvents would find anything: a cycle that changed nothing writes no state. */
export function hasNews(state: StateSnapshot): boolean {
  const last = state.history.at(-1);
  if (last && last.id !== state.outbox.historyCursor) return true;
  const refusal = state.channel.lastRefusal;
  return refusal !== null && eventOfRefusal(refusal).id !== state.outbox.refusalQueued;
}

/**
 * Appends events not already queued (by id), then drops the oldest past `limit` and counts them.
 * A pending events-dropped event is never dropped itself: it is the record of the loss.
 */
export function queueEvents(outbox: ReportOutbox, events: readonly ReportEvent[], limit: number): number {
  const known = new Set(outbox.events.map((e) => e.id));
  let added = 0;
  for (const event of events) {
    if (known.has(event.id)) continue;
    known.add(event.id);
    outbox.events.push(event);
    added++;
  }
  let excess = outbox.events.length - limit;
  if (excess > 0) {
    const kept: ReportEvent[] = [];
    for (const event of outbox.events) {
      if (excess > 0 && event.type !== 'events-dropped') {
        excess--;
        outbox.dropped++;
      } else kept.push(event);
    }
    outbox.events = kept;
  }
  return added;
}

/**
 * The events the next report carries, oldest first. Drops counted so far become one
 * events-dropped event first, with its own id: once made, its count never changes, so a re-sent
 * report counts the loss once. While one is unacknowledged, later drops wait for the next one.
 */
export function nextBatch(outbox: ReportOutbox, opts: BatchOptions): ReportEvent[] {
  sealDrops(outbox, opts);
  return batchOf(outbox, opts);
}

export interface BatchOptions {
  readonly now: Date;
  readonly newId: () => string;
  readonly max?: number;
  readonly maxBytes?: number;
}

/** The drop count becomes one events-dropped event at the head of the outbox (see nextBatch). */
export function sealDrops(outbox: ReportOutbox, opts: Pick<BatchOptions, 'now' | 'newId'>): void {
  if (outbox.dropped > 0 && !outbox.events.some((e) => e.type === 'events-dropped')) {
    outbox.events.unshift({ id: opts.newId(), at: opts.now.toISOString(), type: 'events-dropped', count: outbox.dropped });
    outbox.dropped = 0;
  }
}

/** The oldest events that fit one report, read without changing the outbox. */
export function batchOf<E extends { readonly type: string }>(outbox: { readonly events: readonly E[] }, opts: Pick<BatchOptions, 'max' | 'maxBytes'> = {}): E[] {
  const max = opts.max ?? REPORT_BATCH_LIMIT;
  const maxBytes = opts.maxBytes ?? REPORT_BATCH_BYTES;
  const batch: E[] = [];
  let bytes = 0;
  for (const event of outbox.events) {
    if (batch.length >= max) break;
    const size = Buffer.byteLength(JSON.stringify(event));
    // The first event always goes, or one large event would block the outbox for good.
    if (batch.length > 0 && bytes + size > maxBytes) break;
    batch.push(event);
    bytes += size;
  }
  return batch;
}

/** Removes the events the controller acknowledged; events queued while the report was in flight stay. */
export function ackEvents(outbox: ReportOutbox, ids: readonly string[]): void {
  if (ids.length === 0) return;
  const acked = new Set(ids);
  outbox.events = outbox.events.filter((e) => !acked.has(e.id));
}
