import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReportEvent } from '../../schemas/index.js';
import { validateValue } from '../../schemas/index.js';
import { emptyOutbox } from '../../agent/src/core/agent-state.js';
import { backoffMs, REPORT_BACKOFF } from '../../agent/src/report/backoff.js';
import { ackEvents, collectEvents, hasNews, nextBatch, queueEvents, REPORT_BATCH_LIMIT } from '../../agent/src/report/outbox.js';
import { agentState, channelRefusal, historyEntry } from '../helpers/agent-state.js';

const NOW = new Date('2026-11-24T02:00:00Z');
const ev = (i: number): ReportEvent => ({ id: `e-${i}`, at: NOW.toISOString(), type: 'backup', app: 'shop' });
const ids = (events: readonly ReportEvent[]): string[] => events.map((e) => e.id);
let n = 0;
const newId = (): string => `drop-${++n}`;

test('past the cap the oldest events are dropped and counted', () => {
  const outbox = emptyOutbox();
  queueEvents(outbox, [1, 2, 3, 4, 5].map(ev), 3);
  assert.equal(ids(outbox.events), ['e-3', 'e-4', 'e-5']);
  assert.is(outbox.dropped, 2);
});

test('an event already queued is not queued twice', () => {
  const outbox = emptyOutbox();
  queueEvents(outbox, [ev(1)], 10);
  assert.is(queueEvents(outbox, [ev(1), ev(2)], 10), 1);
  assert.equal(ids(outbox.events), ['e-1', 'e-2']);
});

test('the drop becomes one events-dropped event, first in the next report, and validates', () => {
  const outbox = emptyOutbox();
  queueEvents(outbox, [1, 2, 3, 4, 5].map(ev), 3);
  const batch = nextBatch(outbox, { now: NOW, newId });
  assert.is(batch[0]!.type, 'events-dropped');
  assert.is(batch[0]!.count, 2);
  assert.is(outbox.dropped, 0);
  validateValue('report', { agentId: 'n', sentAt: NOW.toISOString(), status: { group: 'g', channel: { commit: null, committedAt: null, stale: false, refusal: null }, apps: [] }, events: batch }, 'report');
});

test('a re-sent drop event keeps its id and count; later drops wait for the next one', () => {
  const outbox = emptyOutbox();
  queueEvents(outbox, [1, 2, 3].map(ev), 2);
  const first = nextBatch(outbox, { now: NOW, newId })[0]!;
  queueEvents(outbox, [4, 5].map(ev), 2);
  const again = nextBatch(outbox, { now: NOW, newId })[0]!;
  assert.equal(again, first, 'the unacknowledged drop event is sent unchanged');
  assert.ok(outbox.dropped > 0, 'new drops are counted aside');
  ackEvents(outbox, [first.id]);
  const next = nextBatch(outbox, { now: NOW, newId })[0]!;
  assert.is(next.type, 'events-dropped');
  assert.is.not(next.id, first.id);
  // Five queued under a cap of two (the drop event included): only e-5 is left, four were lost.
  assert.equal(ids(outbox.events).slice(1), ['e-5']);
  assert.is(first.count! + next.count!, 4, 'every dropped event counted exactly once');
});

test('the pending drop event is never dropped itself', () => {
  const outbox = emptyOutbox();
  queueEvents(outbox, [1, 2].map(ev), 1);
  nextBatch(outbox, { now: NOW, newId });
  queueEvents(outbox, [3, 4, 5].map(ev), 1);
  assert.is(outbox.events[0]!.type, 'events-dropped');
});

test('only acknowledged ids leave the outbox; events queued meanwhile stay', () => {
  const outbox = emptyOutbox();
  queueEvents(outbox, [1, 2].map(ev), 100);
  const batch = nextBatch(outbox, { now: NOW, newId });
  queueEvents(outbox, [ev(3)], 100);
  ackEvents(outbox, ids(batch));
  assert.equal(ids(outbox.events), ['e-3']);
});

test(`a report carries at most ${REPORT_BATCH_LIMIT} events, oldest first`, () => {
  const outbox = emptyOutbox();
  queueEvents(outbox, Array.from({ length: 1200 }, (_, i) => ev(i)), 10_000);
  const batch = nextBatch(outbox, { now: NOW, newId });
  assert.is(batch.length, REPORT_BATCH_LIMIT);
  assert.is(batch[0]!.id, 'e-0');
});

test('a batch stays under the byte budget, but always carries at least one event', () => {
  const outbox = emptyOutbox();
  queueEvents(outbox, [1, 2, 3].map((i) => ({ ...ev(i), reason: 'x'.repeat(3000) })), 100);
  assert.is(nextBatch(outbox, { now: NOW, newId, maxBytes: 4000 }).length, 1);
  assert.is(nextBatch(outbox, { now: NOW, newId, maxBytes: 10 }).length, 1);
});

test('collecting queues new history once and moves the cursor; nothing new means no news', () => {
  const state = agentState({ history: [historyEntry({ from: null, to: '1.0.0' })] });
  assert.ok(hasNews(state));
  assert.is(collectEvents(state, 100), 1);
  assert.not.ok(hasNews(state));
  assert.is(collectEvents(state, 100), 0);
  state.channel.lastRefusal = channelRefusal();
  assert.ok(hasNews(state));
  assert.is(collectEvents(state, 100), 1);
  assert.is(collectEvents(state, 100), 0, 'the same refusal is queued once');
  assert.equal(state.outbox.events.map((e) => e.type), ['install', 'channel-refused']);
});

test('the backoff grows from 1 s to at most 5 min, with jitter within the ceiling', () => {
  assert.is(backoffMs(1, 0), 1000);
  assert.ok(backoffMs(3, 0.5) >= 2000 && backoffMs(3, 0.5) <= 4000);
  assert.ok(backoffMs(50, 0.999) <= REPORT_BACKOFF.maxMs && backoffMs(50, 0.999) > REPORT_BACKOFF.maxMs * 0.99);
  assert.ok(backoffMs(50, 0) >= REPORT_BACKOFF.maxMs / 2);
});

test.run();
