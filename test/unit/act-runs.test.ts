// Issue 16 §3: the acts a console page follows. A page that connects late hears the records so far
// first, then what comes, then the result once; a reconnecting one only what it missed; a refusal
// is a result like any other; finished runs beyond the few kept are forgotten, running ones never.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActRuns } from '../../agent/src/console/act-runs.js';
import type { RequestResult } from '../../agent/src/core/operator-request.js';
import type { ProgressRecord } from '../../agent/src/core/request-progress.js';
import { progressRecordOf } from '../../agent/src/core/request-progress.js';
import { DuckError } from '../../schemas/errors.js';

const AT = new Date('2026-12-01T02:00:00.000Z');
const step = (name: string): ProgressRecord => progressRecordOf('step', { app: 'shop', step: name, ms: 1 }, AT)!;
const OK: RequestResult = { ok: true, lines: [], changes: [] };

/** An act the test moves by hand: each record when it says, then the end. */
function scripted(): { act: (onProgress: (r: ProgressRecord) => void) => Promise<RequestResult>; emit(r: ProgressRecord): void; end(r: RequestResult | Error): Promise<void> } {
  let sink: ((r: ProgressRecord) => void) | null = null;
  let finish: ((r: RequestResult) => void) | null = null;
  let fail: ((e: Error) => void) | null = null;
  return {
    act: (onProgress) => {
      sink = onProgress;
      return new Promise((resolve, reject) => {
        finish = resolve;
        fail = reject;
      });
    },
    emit: (r) => sink!(r),
    end: async (r) => {
      if (r instanceof Error) fail!(r);
      else finish!(r);
      await new Promise((done) => setImmediate(done));
    },
  };
}

function listener(): { heard: string[]; l: { step(r: ProgressRecord, i: number): void; done(r: RequestResult): void } } {
  const heard: string[] = [];
  return { heard, l: { step: (r, i) => void heard.push(`${i}:${String(r.fields.step)}`), done: (r) => void heard.push(`done:${r.ok}`) } };
}

test('a late page hears the records so far, then the next ones, then the result once', async () => {
  const runs = new ActRuns();
  const s = scripted();
  const id = runs.start(s.act);
  s.emit(step('stop'));
  const late = listener();
  assert.ok(runs.follow(id, late.l));
  s.emit(step('up'));
  await s.end(OK);
  assert.equal(late.heard, ['0:stop', '1:up', 'done:true']);
  const after = listener();
  runs.follow(id, after.l);
  assert.equal(after.heard, ['0:stop', '1:up', 'done:true'], 'after the end too');
});

test('a page that reconnects after record 0 hears from record 1 on', async () => {
  const runs = new ActRuns();
  const s = scripted();
  const id = runs.start(s.act);
  s.emit(step('stop'));
  s.emit(step('up'));
  const again = listener();
  runs.follow(id, again.l, 1);
  await s.end(OK);
  assert.equal(again.heard, ['1:up', 'done:true']);
});

test('a refused act ends with its error as the result', async () => {
  const runs = new ActRuns();
  const s = scripted();
  const id = runs.start(s.act);
  await s.end(new DuckError('locked', 'duck upgrade holds the node'));
  let result: RequestResult | null = null;
  runs.follow(id, { step: () => undefined, done: (r) => void (result = r) });
  assert.equal(result, { ok: false, lines: [], changes: [], error: { code: 'locked', message: 'duck upgrade holds the node' } });
});

test('beyond the runs kept, finished ones are forgotten and a running one is not', async () => {
  const runs = new ActRuns(2);
  const running = scripted();
  const first = runs.start(running.act);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const s = scripted();
    ids.push(runs.start(s.act));
    await s.end(OK);
  }
  assert.ok(runs.follow(first, listener().l), 'the running one is kept');
  assert.is(runs.follow(ids[0]!, listener().l), null, 'the oldest finished one is gone');
  assert.is(runs.follow('no-such-run', listener().l), null);
});

test.run();
