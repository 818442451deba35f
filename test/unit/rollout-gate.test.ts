// `duck release gate`'s judgement and watch, table-driven: pass when enough nodes run the version
// healthy, fail when more failed by the release's fault than allowed (node faults apart), pending
// otherwise; the watch reads again until the wait ends, rides over a controller that does not
// answer, and stops at once on one that refuses the token.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DuckError } from '../../schemas/errors.js';
import { watchRolloutGate } from '../../agent/src/release/gate-watch.js';
import { judgeRollout, parseFailureLimit, parseMinNodes, readRollouts, type GateCriteria, type RolloutReading } from '../../agent/src/release/rollout-gate.js';

const test = suite('release gate');
const target = { group: 'canary', app: 'hello', version: '1.2.0' };

function reading(counts: Partial<RolloutReading['counts']>, inRollout = 4, desired = '1.2.0'): RolloutReading {
  return { group: 'canary', app: 'hello', desired, version: '1.2.0', total: inRollout, inRollout, counts: { healthy: 0, releaseFailed: 0, ...counts } };
}

test('failure limits: a count or a share; anything else is a usage error naming the option', () => {
  assert.equal(parseFailureLimit('0%'), { kind: 'percent', percent: 0 });
  assert.equal(parseFailureLimit('12.5%'), { kind: 'percent', percent: 12.5 });
  assert.equal(parseFailureLimit('2'), { kind: 'count', count: 2 });
  for (const bad of ['', '-1', '101%', 'two', '5 %x']) {
    assert.throws(() => parseFailureLimit(bad), (e: DuckError) => e.code === 'usage' && e.message.startsWith('--max-failed'), bad);
  }
  assert.is(parseMinNodes('3'), 3);
  assert.throws(() => parseMinNodes('0'), (e: DuckError) => e.code === 'usage' && e.message.startsWith('--min-nodes'));
});

test('verdicts: release failures past the limit fail first; enough healthy nodes pass; else pending', () => {
  const cases: [string, RolloutReading | undefined, GateCriteria, string][] = [
    ['3 healthy of 3 needed', reading({ healthy: 3 }), { minNodes: 3, maxFailed: { kind: 'percent', percent: 0 } }, 'pass'],
    ['2 healthy of 3 needed', reading({ healthy: 2, window: 1 }), { minNodes: 3, maxFailed: { kind: 'percent', percent: 0 } }, 'pending'],
    ['one release failure at 0%', reading({ healthy: 3, releaseFailed: 1 }), { minNodes: 3, maxFailed: { kind: 'percent', percent: 0 } }, 'fail'],
    ['one of four is 25%, within 25%', reading({ healthy: 3, releaseFailed: 1 }), { minNodes: 3, maxFailed: { kind: 'percent', percent: 25 } }, 'pass'],
    ['two failures past a count of 1', reading({ healthy: 2, releaseFailed: 2 }), { minNodes: 1, maxFailed: { kind: 'count', count: 1 } }, 'fail'],
    ['node faults are no release failure', reading({ healthy: 1, infrastructureFailed: 3 }), { minNodes: 2, maxFailed: { kind: 'percent', percent: 0 } }, 'pending'],
    ['no node reports the app', undefined, { minNodes: 1, maxFailed: { kind: 'percent', percent: 0 } }, 'pending'],
  ];
  for (const [label, r, criteria, expected] of cases) assert.is(judgeRollout(r, target, criteria).kind, expected, label);
  const message = judgeRollout(reading({ healthy: 1, window: 2, rollout: 1 }, 4, '1.3.0'), target, { minNodes: 3, maxFailed: { kind: 'count', count: 0 } }).message;
  assert.match(message, /healthy on 1 of 4 nodes/);
  assert.match(message, /window 2, rollout 1/);
  assert.match(message, /ask for 1\.3\.0/);
});

test('a body that is not the rollouts answer is an error naming the field, not a pending rollout', () => {
  assert.throws(() => readRollouts({ agents: [] }, 'http://x/api/v1/rollouts'), (e: DuckError) => e.data.field === 'rollouts');
  assert.throws(() => readRollouts({ rollouts: [{ group: 'g' }] }, 'http://x/api/v1/rollouts'), (e: DuckError) => e.data.field === 'rollouts/0');
});

function clockAndSleep(): { now: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return { now: () => t, sleep: async (ms) => void (slept.push(ms), (t += ms)), slept };
}

test('the watch reads every interval until a verdict, and times out with what it last saw', async () => {
  const answers: unknown[] = [
    { rollouts: [] },
    new DuckError('fetch', 'GET http://x/api/v1/rollouts: ECONNREFUSED', {}, 'transient'),
    { rollouts: [reading({ healthy: 1 })] },
    { rollouts: [reading({ healthy: 3 })] },
  ];
  const client = {
    url: 'http://x',
    rollouts: async (): Promise<unknown> => {
      const next = answers.shift();
      if (next instanceof Error) throw next;
      return next;
    },
  };
  const clock = clockAndSleep();
  const pending: string[] = [];
  const base = { controllerUrl: 'http://x', token: 't', target, criteria: { minNodes: 3, maxFailed: { kind: 'percent', percent: 0 } } as GateCriteria, pollMs: 10_000, client, ...clock };
  const passed = await watchRolloutGate({ ...base, waitMs: 60_000, onPending: (v) => pending.push(v.message) });
  assert.equal([passed.kind, passed.readings], ['pass', 4]);
  assert.match(pending[1] ?? '', /did not answer/);
  assert.equal(clock.slept, [10_000, 10_000, 10_000]);

  answers.push(...Array.from({ length: 10 }, () => ({ rollouts: [reading({ healthy: 1 })] })));
  const timedOut = await watchRolloutGate({ ...base, waitMs: 25_000, ...clockAndSleep() });
  assert.equal([timedOut.kind, timedOut.readings], ['timeout', 4]);
  assert.match(timedOut.message, /healthy on 1 of 4 nodes.*after waiting 25s, 4 readings/);
});

test('the watch stops at once on a refused token: waiting cannot mend it', async () => {
  const client = {
    url: 'http://x',
    rollouts: async (): Promise<unknown> => {
      throw new DuckError('fetch', 'GET http://x/api/v1/rollouts: 403: forbidden', { status: 403 }, 'stalled');
    },
  };
  const clock = clockAndSleep();
  await watchRolloutGate({ controllerUrl: 'http://x', token: 't', target, criteria: { minNodes: 1, maxFailed: { kind: 'count', count: 0 } }, waitMs: 60_000, pollMs: 1000, client, ...clock }).then(
    () => assert.unreachable('resolved'),
    (e: DuckError) => assert.match(e.message, /403/),
  );
  assert.equal(clock.slept, []);
});

test.run();
