import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatDuration, parseDuration } from '../../agent/src/core/duration.js';

test('parses single and compound durations', () => {
  assert.is(parseDuration('60s'), 60_000);
  assert.is(parseDuration('7d'), 7 * 86_400_000);
  assert.is(parseDuration('1h30m'), 90 * 60_000);
  assert.is(parseDuration('250ms'), 250);
  assert.is(parseDuration('2w'), 14 * 86_400_000);
});

test('refuses text that is not wholly a duration, naming the field', () => {
  assert.throws(() => parseDuration('7 days', { file: 'channel.yaml', field: '/freshness' }), /channel\.yaml: \/freshness: "7 days"/);
  assert.throws(() => parseDuration('3h!'), /not a duration/);
  assert.throws(() => parseDuration(''), /not a duration/);
});

test('formats durations for people', () => {
  assert.is(formatDuration(500), '500ms');
  assert.is(formatDuration(90_000), '2m');
  assert.is(formatDuration(3 * 86_400_000), '3d');
});

test.run();
