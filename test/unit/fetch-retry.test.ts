// Issue 17 §4: a throttled channel (429, 503) is tried again no earlier than its Retry-After, or
// after a back-off doubling from one interval with jitter, capped; never earlier than the next poll.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fetchRetryAt, MAX_RETRY_AFTER_MS, parseRetryAfter, THROTTLE_MAX_INTERVALS } from '../../agent/src/core/fetch-retry.js';

const MIN = 60_000;
const NOW = Date.parse('2026-11-23T12:00:00.000Z');

test('Retry-After in seconds is read as milliseconds from now', () => {
  assert.is(parseRetryAfter('120', NOW), 120_000);
  assert.is(parseRetryAfter(' 0 ', NOW), 0);
});

test('Retry-After as an HTTP-date is read as the time until that date, never negative', () => {
  assert.is(parseRetryAfter('Mon, 23 Nov 2026 12:05:00 GMT', NOW), 5 * MIN);
  assert.is(parseRetryAfter('Mon, 23 Nov 2026 11:00:00 GMT', NOW), 0);
});

test('Retry-After is capped: a header asking for a day waits an hour', () => {
  assert.is(parseRetryAfter('86400', NOW), MAX_RETRY_AFTER_MS);
  assert.is(parseRetryAfter('Tue, 24 Nov 2026 12:00:00 GMT', NOW), MAX_RETRY_AFTER_MS);
});

test('an absent or unreadable Retry-After is null: the back-off decides', () => {
  for (const value of [undefined, '', '-5', '1.5', 'soon', '2026-11-23T12:05:00Z']) assert.is(parseRetryAfter(value, NOW), null, String(value));
});

const base = { now: NOW, nextPoll: NOW + 30_000, intervalMs: MIN, failures: 1, agentId: 'node-1' };

test('a failure that was not throttled is tried again at the next poll', () => {
  assert.is(fetchRetryAt({ ...base, throttle: null }), base.nextPoll);
  assert.is(fetchRetryAt({ ...base, throttle: null, failures: 9 }), base.nextPoll);
});

test('a 429 with Retry-After waits for it, but never polls before the node schedule', () => {
  assert.is(fetchRetryAt({ ...base, throttle: { status: 429, retryAfter: '120' } }), NOW + 120_000);
  assert.is(fetchRetryAt({ ...base, throttle: { status: 503, retryAfter: '5' } }), base.nextPoll);
});

test('a 429 without Retry-After backs off, doubling with jitter, capped at a few intervals', () => {
  const delays = [1, 2, 3, 4, 5, 10].map((failures) => fetchRetryAt({ ...base, failures, throttle: { status: 429 } }) - NOW);
  const full = [1, 2, 4, 8, 8, 8].map((n) => n * MIN);
  delays.forEach((d, i) => assert.ok(d >= full[i]! / 2 && d <= full[i]!, `failure ${i}: ${d}`));
  assert.ok(Math.max(...delays) <= THROTTLE_MAX_INTERVALS * MIN);
});

test('the jitter spreads a fleet throttled together', () => {
  const at = new Set(Array.from({ length: 200 }, (_, i) => fetchRetryAt({ ...base, failures: 3, agentId: `node-${i}`, throttle: { status: 429 } })));
  assert.ok(at.size > 150, `${at.size} distinct retry times`);
});

test.run();
