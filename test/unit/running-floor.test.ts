import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { floorRefusal } from '../../agent/src/channel/running-floor.js';

const c = (n: number): string => String(n).repeat(40).slice(0, 40);
const chain = (...ns: number[]): Set<string> => new Set(ns.map(c));

test('accepts any tip when nothing this agent deployed runs (a new node)', () => {
  assert.is(floorRefusal(c(1), chain(1), []), null);
});

test('accepts a tip whose first-parent chain holds every commit the stacks were deployed from', () => {
  assert.is(floorRefusal(c(3), chain(1, 2, 3), [{ app: 'shop', commit: c(2) }, { app: 'web', commit: c(3) }]), null);
});

test('refuses a tip behind what a stack runs with history-rewritten, saying the state was lost and how to get out', () => {
  const err = floorRefusal(c(1), chain(1), [{ app: 'shop', commit: c(2) }]);
  assert.ok(err);
  assert.is(err.code, 'history-rewritten');
  assert.match(err.message, /the state has no accepted commit \(it was lost, or this node is new\)/);
  assert.match(err.message, new RegExp(`shop from ${c(2).slice(0, 12)}`));
  assert.match(err.message, /duck verify --allow-reset/);
  assert.equal(err.data, { commit: c(1), tip: c(1), deployed: [{ app: 'shop', commit: c(2) }] });
});

test('names only the stacks the tip does not descend from, in app order', () => {
  const err = floorRefusal(c(4), chain(1, 4), [{ app: 'web', commit: c(3) }, { app: 'api', commit: c(2) }, { app: 'db', commit: c(1) }]);
  assert.equal(err?.data.deployed, [{ app: 'api', commit: c(2) }, { app: 'web', commit: c(3) }]);
});

test.run();
