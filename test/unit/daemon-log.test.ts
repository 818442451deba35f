// Issue 12 §14: duck run logs changes, not repeats — a `cycle` line when something changed (and an
// hourly heartbeat), a `wait` line when a wait starts or changes, and a few lines per download.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CycleOutcome } from '../../agent/src/node/cycle.js';
import { CYCLE_HEARTBEAT_MS, cycleLogger } from '../../agent/src/node/cycle-log.js';
import { PROGRESS_LOG_EVERY_MS, sparseProgressLog } from '../../agent/src/node/progress-log.js';
import type { Wait } from '../../agent/src/core/steps.js';

type Line = { event: string; fields: Record<string, unknown> };

function recorder(): { lines: Line[]; log: (event: string, fields?: Record<string, unknown>) => void } {
  const lines: Line[] = [];
  return { lines, log: (event, fields = {}) => void lines.push({ event, fields }) };
}

const WINDOW: Wait = { app: 'shop', reason: 'waiting for window Sat 02:00 UTC to move 1.0.0 -> 1.1.0', until: '2026-11-28T02:00:00.000Z', kind: 'window' };

function outcome(o: { commit?: string; waits?: Wait[]; changes?: number; refused?: string } = {}): CycleOutcome {
  return {
    at: '2026-11-23T12:00:00.000Z',
    fetch: { status: 'skipped' },
    accept: { status: 'kept' },
    resolve: { view: null, resolved: null, agent: null },
    plan: { plan: null },
    apply: { changes: Array.from({ length: o.changes ?? 0 }, () => ({ app: 'shop', outcome: 'applied' as const, from: '1.0.0', to: '1.1.0', reason: 'ok', ms: 1 })) },
    commit: o.commit ?? 'c1',
    refusal: o.refused ? { reason: o.refused, message: 'no' } : null,
    unreachable: null,
    waits: o.waits ?? [],
    stale: false,
    announcements: [],
  };
}

test('ten quiet polls log one cycle line and one wait line', () => {
  const { lines, log } = recorder();
  let now = 0;
  const logCycle = cycleLogger(log, () => now);
  for (let i = 0; i < 10; i++, now += 60_000) logCycle(outcome({ waits: [WINDOW] }));
  assert.equal(lines.map((l) => l.event), ['wait', 'cycle']);
  assert.is(lines[0]!.fields.kind, 'window');
});

test('a new commit, a change, a refusal or another wait reason each log again', () => {
  const { lines, log } = recorder();
  const logCycle = cycleLogger(log, () => 0);
  logCycle(outcome({ waits: [WINDOW] }));
  logCycle(outcome({ commit: 'c2', waits: [WINDOW] }));
  logCycle(outcome({ commit: 'c2', waits: [{ ...WINDOW, reason: 'held: freeze', kind: 'hold', until: null }] }));
  logCycle(outcome({ commit: 'c2', changes: 1 }));
  logCycle(outcome({ commit: 'c2', changes: 1 }));
  logCycle(outcome({ commit: 'c2', refused: 'unsigned' }));
  assert.equal(lines.map((l) => l.event), ['wait', 'cycle', 'cycle', 'wait', 'cycle', 'cycle', 'cycle']);
});

test('a wait that ends and comes back is logged again', () => {
  const { lines, log } = recorder();
  const logCycle = cycleLogger(log, () => 0);
  logCycle(outcome({ waits: [WINDOW] }));
  logCycle(outcome({}));
  logCycle(outcome({ waits: [WINDOW] }));
  assert.is(lines.filter((l) => l.event === 'wait').length, 2);
});

test('a quiet node says it is alive once per heartbeat', () => {
  const { lines, log } = recorder();
  let now = 0;
  const logCycle = cycleLogger(log, () => now);
  const polls = (2 * CYCLE_HEARTBEAT_MS) / 60_000;
  for (let i = 0; i <= polls; i++, now += 60_000) logCycle(outcome());
  const cycles = lines.filter((l) => l.event === 'cycle');
  assert.is(cycles.length, 3, 'the first, then one per hour');
  assert.is(cycles[1]!.fields.heartbeat, true);
});

test('a 2 MB download off a terminal logs its start and its end, not a line per tenth', () => {
  const { lines, log } = recorder();
  let now = 0;
  const progress = sparseProgressLog(log, 'shop', () => now);
  const total = 2 * 1024 * 1024;
  for (let bytes = 0; bytes <= total; bytes += 64 * 1024, now += 20) progress({ url: 'https://files.example/shop.tar', bytes, total });
  assert.equal(lines.map((l) => [l.fields.bytes, l.fields.done ?? false]), [[0, false], [total, true]]);
});

test('a slow download logs now and then, at most once per period, and each download of its own', () => {
  const { lines, log } = recorder();
  let now = 0;
  const progress = sparseProgressLog(log, 'shop', () => now);
  const total = 100;
  for (let bytes = 0; bytes <= total; bytes += 1, now += 1_000) progress({ url: 'u1', bytes, total });
  const expected = 1 + Math.floor((100 * 1_000 - 1) / PROGRESS_LOG_EVERY_MS) + 1;
  assert.is(lines.length, expected, JSON.stringify(lines));
  progress({ url: 'u2', bytes: 0, total: 10 });
  progress({ url: 'u2', bytes: 10, total: 10 });
  assert.is(lines.length, expected + 2);
});

test.run();
