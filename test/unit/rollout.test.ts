import { randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rolloutBucket, rolloutPosition } from '../../agent/src/core/rollout.js';

const steps = [
  { percent: 10, at: '2026-11-24T02:00:00Z' },
  { percent: 50, at: '2026-11-25T02:00:00Z' },
  { percent: 100, at: '2026-11-26T02:00:00Z' },
];

test('a bucket is stable for the same agent, app and version and differs across versions', () => {
  const id = '3f1c2a9e-0000-4000-8000-000000000001';
  assert.is(rolloutBucket(id, 'shop', '1.3.0'), rolloutBucket(id, 'shop', '1.3.0'));
  assert.is.not(rolloutBucket(id, 'shop', '1.3.0'), rolloutBucket(id, 'shop', '1.4.0'));
  const b = rolloutBucket(id, 'shop', '1.3.0');
  assert.ok(b >= 0 && b < 100);
});

test('10,000 random agent ids spread within 2 points of any percent', () => {
  const buckets = Array.from({ length: 10_000 }, () => rolloutBucket(randomUUID(), 'shop', '1.3.0'));
  for (const percent of [1, 5, 10, 25, 50, 75, 90, 99]) {
    const share = (buckets.filter((b) => b < percent).length / buckets.length) * 100;
    assert.ok(Math.abs(share - percent) <= 2, `${percent}%: ${share.toFixed(2)}% of nodes`);
  }
});

test('the percent in force is the last step whose time has come, 0 before the first', () => {
  assert.is(rolloutPosition(steps, 5, new Date('2026-11-23T00:00:00Z')).percent, 0);
  assert.is(rolloutPosition(steps, 5, new Date('2026-11-24T03:00:00Z')).percent, 10);
  assert.is(rolloutPosition(steps, 5, new Date('2026-11-27T00:00:00Z')).percent, 100);
});

test('a node is in once the percent exceeds its bucket, and stays in as time passes', () => {
  const bucket = 37.5;
  let wasIn = false;
  for (let t = Date.parse('2026-11-23T00:00:00Z'); t < Date.parse('2026-11-28T00:00:00Z'); t += 3_600_000) {
    const { isIn } = rolloutPosition(steps, bucket, new Date(t));
    assert.ok(!(wasIn && !isIn), `fell out at ${new Date(t).toISOString()}`);
    wasIn ||= isIn;
  }
  assert.ok(wasIn);
});

test('says when a later step takes the bucket in', () => {
  const p = rolloutPosition(steps, 37.5, new Date('2026-11-24T03:00:00Z'));
  assert.is(p.isIn, false);
  assert.equal(p.admitsAt, new Date('2026-11-25T02:00:00Z'));
});

test('no rollout steps means everyone is in at once', () => {
  assert.equal(rolloutPosition(undefined, 99.9, new Date()), { percent: 100, admitsAt: null, isIn: true });
});

test.run();
