// Issue 12 §9b: a fleet that boots together spreads its first fetch and its reports by node.
import { randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nextPollAt, pollOffsetMs, reportOffsetMs, startDelayMs } from '../../agent/src/core/poll-schedule.js';

const MIN = 60_000;

test('the first poll after start waits for the node offset, scaled into the spread window', () => {
  assert.is(startDelayMs(30 * MIN, 60 * MIN, 5 * MIN), 2.5 * MIN, 'half the interval is half the spread');
  assert.is(startDelayMs(30_000, 60_000, 5 * MIN), 30_000, 'an interval shorter than the spread: the offset itself');
  assert.is(startDelayMs(0, 60_000, 5 * MIN), 0);
  assert.is(startDelayMs(45_000, 60_000, 0), 0, 'startSpread 0s: at once');
});

test('a fleet of nodes starts spread over the whole window, never past it', () => {
  const interval = 60 * MIN;
  const spread = 5 * MIN;
  const delays = Array.from({ length: 1000 }, () => startDelayMs(pollOffsetMs(randomUUID(), interval), interval, spread));
  assert.ok(delays.every((d) => d >= 0 && d < spread), 'bounded by the spread');
  // Five equal slices of the window each take a fair share (a uniform hash: ~200 each).
  const slices = [0, 0, 0, 0, 0];
  for (const d of delays) slices[Math.floor((d / spread) * 5)]!++;
  assert.ok(slices.every((n) => n > 120), `spread over the window: ${slices.join(', ')}`);
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
