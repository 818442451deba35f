// Issue 12 §9b: a fleet that boots together spreads its first fetch and its reports by node.
import { randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { firstPollAt, nextPollAt, pollOffsetMs, reportOffsetMs } from '../../agent/src/core/poll-schedule.js';

const MIN = 60_000;

const NOW = Date.parse('2026-11-23T12:00:00.000Z') + 1234;

test('with an interval within the spread, the first poll after start is the node own turn on its grid', () => {
  const offset = 42_000;
  const first = firstPollAt(NOW, MIN, offset, 5 * MIN);
  assert.is(first, nextPollAt(NOW, MIN, offset));
  assert.ok(first > NOW && first <= NOW + MIN);
});

test('with an interval longer than the spread, the offset is scaled into the spread', () => {
  assert.is(firstPollAt(NOW, 60 * MIN, 30 * MIN, 5 * MIN) - NOW, 2.5 * MIN);
  assert.is(firstPollAt(NOW, 60 * MIN, 0, 5 * MIN), NOW);
});

test('startSpread 0s polls at once', () => {
  assert.is(firstPollAt(NOW, MIN, 45_000, 0), NOW);
});

test('a fleet started together spreads its first polls over the whole window, never past it', () => {
  for (const interval of [MIN, 60 * MIN]) {
    const spread = 5 * MIN;
    const window = Math.min(interval, spread);
    const delays = Array.from({ length: 1000 }, () => firstPollAt(NOW, interval, pollOffsetMs(randomUUID(), interval), spread) - NOW);
    assert.ok(delays.every((d) => d >= 0 && d <= window), 'bounded by the spread and the interval');
    // Five equal slices of the window each take a fair share (a uniform hash: ~200 each).
    const slices = [0, 0, 0, 0, 0];
    for (const d of delays) slices[Math.min(4, Math.floor((d / window) * 5))]!++;
    assert.ok(slices.every((n) => n > 120), `spread over the window: ${slices.join(', ')}`);
  }
});

test('reports have their own stable offset, apart from the poll offset', () => {
  const id = 'agent-7d0c';
  assert.is(reportOffsetMs(id, MIN), reportOffsetMs(id, MIN), 'stable');
  assert.ok(reportOffsetMs(id, MIN) < MIN);
  const ids = Array.from({ length: 50 }, () => randomUUID());
  assert.ok(ids.some((i) => reportOffsetMs(i, MIN) !== pollOffsetMs(i, MIN)));
});

test('after the first, reports keep to the node grid in each interval', () => {
  const offset = reportOffsetMs('agent-7d0c', MIN);
  const next = nextPollAt(10 * MIN + 5, MIN, offset);
  assert.is((next - offset) % MIN, 0);
  assert.ok(next > 10 * MIN + 5 && next <= 11 * MIN + 5);
});

test.run();
