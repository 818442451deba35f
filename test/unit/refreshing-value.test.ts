// RefreshingValue with a hand-driven clock and computations the test finishes itself.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RefreshingValue } from '../../controller/src/refreshing-value.js';

const test = suite('refreshing value');

function harness(maxAgeMs: number) {
  let clock = 0;
  let calls = 0;
  const pending: { resolve: (v: number) => void; reject: (e: Error) => void }[] = [];
  const errors: unknown[] = [];
  const value = new RefreshingValue<number>(
    () => {
      calls++;
      return new Promise<number>((resolve, reject) => pending.push({ resolve, reject }));
    },
    maxAgeMs,
    () => clock,
    (err) => errors.push(err),
  );
  const settle = () => new Promise((r) => setImmediate(r));
  return {
    value,
    errors,
    pending,
    settle,
    calls: () => calls,
    tick: (ms: number) => (clock += ms),
  };
}

test('max age 0 computes for every call', async () => {
  const h = harness(0);
  const a = h.value.get();
  const b = h.value.get();
  assert.is(h.calls(), 2);
  h.pending[0]!.resolve(1);
  h.pending[1]!.resolve(2);
  assert.equal([await a, await b], [1, 2]);
});

test('the first call waits for the value; calls at once share one computation', async () => {
  const h = harness(1000);
  const a = h.value.get();
  const b = h.value.get();
  assert.is(h.calls(), 1);
  h.pending[0]!.resolve(7);
  assert.equal([await a, await b], [7, 7]);
});

test('a young value is served without computing; an old one is served once more while one computation makes the next', async () => {
  const h = harness(1000);
  const first = h.value.get();
  h.pending[0]!.resolve(1);
  await first;
  h.tick(999);
  assert.is(await h.value.get(), 1);
  assert.is(h.calls(), 1, 'young: no computation');
  h.tick(1);
  assert.is(await h.value.get(), 1, 'old: the last value answered at once');
  assert.is(await h.value.get(), 1);
  assert.is(h.calls(), 2, 'one computation behind both calls');
  h.pending[1]!.resolve(2);
  await h.settle();
  assert.is(await h.value.get(), 2);
  assert.is(h.calls(), 2);
});

test('a failed computation behind a served value is reported and tried again by the next call', async () => {
  const h = harness(1000);
  const first = h.value.get();
  h.pending[0]!.resolve(1);
  await first;
  h.tick(1000);
  assert.is(await h.value.get(), 1);
  h.pending[1]!.reject(new Error('store down'));
  await h.settle();
  assert.is((h.errors[0] as Error).message, 'store down');
  assert.is(await h.value.get(), 1, 'still the last good value');
  assert.is(h.calls(), 3, 'a new computation started');
});

test('a first computation that fails fails the call, and the next call computes again', async () => {
  const h = harness(1000);
  const a = h.value.get();
  h.pending[0]!.reject(new Error('no store'));
  const failed = await a.then(
    () => null,
    (err: Error) => err.message,
  );
  assert.is(failed, 'no store');
  const b = h.value.get();
  assert.is(h.calls(), 2);
  h.pending[1]!.resolve(3);
  assert.is(await b, 3);
});

test.run();
