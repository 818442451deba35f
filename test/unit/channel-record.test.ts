// Issue 12 §10: a channel that cannot be fetched is recorded apart from a refusal, as a run of
// failures with the next try, cleared by the next fetch that works, and reported.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateValue } from '../../schemas/index.js';
import { recordAccepted, recordFetchFailure, recordRefusal } from '../../agent/src/core/channel-record.js';
import type { AcceptedAnchor } from '../../agent/src/core/agent-state.js';
import { agentStatus } from '../../agent/src/report/status.js';
import { agentState, BUILT_AT, BUILT_COMMIT } from '../helpers/agent-state.js';

const T0 = new Date('2026-11-23T12:00:00Z');
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);
const down = { code: 'fetch', message: 'GET http://git.example/releases.git/info/refs: 503 Service Unavailable' };
const anchor: AcceptedAnchor = { commit: BUILT_COMMIT, signerFingerprint: 'f'.repeat(40), signerName: 'release-bot', committedAt: BUILT_AT, acceptedAt: BUILT_AT, channelVersion: 1 };

test('failed fetches in a row are one run: since the first, at the last, counted, with the next try', () => {
  const s = agentState();
  recordFetchFailure(s, down, T0, at(60));
  recordFetchFailure(s, { code: 'fetch', message: 'deadline passed' }, at(60), at(120));
  assert.equal(s.channel.fetchFailure, { reason: 'fetch', message: 'deadline passed', since: T0.toISOString(), at: at(60).toISOString(), failures: 2, nextTryAt: at(120).toISOString() });
});

test('a fetch failure is not a refusal and not a check: the anchor, the refusal and lastCheckAt stay', () => {
  const s = agentState({ channel: { anchor, lastRefusal: null, fetchFailure: null, lastCheckAt: BUILT_AT, verified: {} } });
  recordFetchFailure(s, down, T0, at(60));
  assert.equal(s.channel.anchor, anchor);
  assert.is(s.channel.lastRefusal, null);
  assert.is(s.channel.lastCheckAt, BUILT_AT, 'a node that cannot reach its channel must not look freshly checked');
});

test('the next fetch that works ends the run, whether its tip is accepted or refused', () => {
  const accepted = agentState();
  recordFetchFailure(accepted, down, T0, at(60));
  recordAccepted(accepted, anchor, {}, at(60));
  assert.is(accepted.channel.fetchFailure, null);
  const refused = agentState();
  recordFetchFailure(refused, down, T0, at(60));
  recordRefusal(refused, { code: 'unsigned', message: 'no signature', tip: 'b'.repeat(40) }, {}, at(60));
  assert.is(refused.channel.fetchFailure, null);
  assert.is(refused.channel.lastRefusal?.reason, 'unsigned');
});

test('the report status carries the fetch failure, valid under the report schema', () => {
  const s = agentState({ channel: { anchor, lastRefusal: null, fetchFailure: null, lastCheckAt: BUILT_AT, verified: {} } });
  recordFetchFailure(s, down, T0, at(60));
  const status = agentStatus({ state: s, group: 'production', desired: null, stale: false });
  assert.equal(status.channel.fetchFailure, { reason: 'fetch', message: down.message, since: T0.toISOString(), at: T0.toISOString(), failures: 1, nextTryAt: at(60).toISOString() });
  assert.is(status.channel.refusal, null);
  validateValue('report', { agentId: 'node-1', sentAt: BUILT_AT, status, events: [] }, 'report');
  assert.is(agentStatus({ state: agentState(), group: 'production', desired: null, stale: false }).channel.fetchFailure, null);
});

test.run();
