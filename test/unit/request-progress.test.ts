// Issue 16 §3: the step records of an operator's request, one format for the daemon's progress
// file and the writer's Logger in process: which logged events are steps, and a file read as it
// grows gives whole records only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseProgressLines, progressLine, progressRecordOf } from '../../agent/src/core/request-progress.js';

const AT = new Date('2026-12-01T02:00:00.000Z');

test('the steps of a change are records; the loop and telemetry lines are not', () => {
  const step = progressRecordOf('step', { app: 'shop', step: 'backup', ms: 12 }, AT);
  assert.equal(step, { at: AT.toISOString(), event: 'step', fields: { app: 'shop', step: 'backup', ms: 12 } });
  for (const event of ['change', 'step-failed', 'rollback', 'outcome', 'download', 'engine-wait', 'recover']) assert.ok(progressRecordOf(event, {}, AT), event);
  for (const event of ['cycle', 'request', 'request-done', 'fetched', 'report-sent', 'wait']) assert.is(progressRecordOf(event, {}, AT), null, event);
});

test('a file read as it grows gives its whole lines as records and keeps the unended one for the next read', () => {
  const a = progressRecordOf('change', { app: 'shop', steps: ['stop', 'up'] }, AT)!;
  const b = progressRecordOf('step', { app: 'shop', step: 'stop', ms: 3 }, AT)!;
  const text = progressLine(a) + progressLine(b);
  const cut = text.length - 7;
  const first = parseProgressLines(text.slice(0, cut));
  assert.equal(first.records, [a]);
  const second = parseProgressLines(first.rest + text.slice(cut));
  assert.equal(second.records, [b]);
  assert.is(second.rest, '');
});

test('a line that is not a step record is skipped, not fatal', () => {
  const good = progressRecordOf('outcome', { app: 'shop', outcome: 'applied' }, AT)!;
  const text = `not json\n${JSON.stringify({ at: AT.toISOString(), event: 'cycle', fields: {} })}\n${JSON.stringify({ event: 'step' })}\n${progressLine(good)}`;
  assert.equal(parseProgressLines(text).records, [good]);
});

test.run();
