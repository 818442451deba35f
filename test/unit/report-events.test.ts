import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateValue } from '../../schemas/index.js';
import { compareVersions } from '../../agent/src/core/plan.js';
import { eventOfHistory, eventOfRefusal, eventOfUpdate, historySince } from '../../agent/src/report/events.js';
import type { UpdateJournal } from '../../agent/src/core/agent-update.js';
import { ended } from '../../agent/src/core/agent-update.js';
import type { AppDesired, DesiredState } from '../../agent/src/core/desired.js';
import { agentStatus, agentUpdateLines, agentUpdateStatus } from '../../agent/src/report/status.js';
import { agentState, BUILT_AT, channelRefusal, failedVersion, historyEntry, installedApp } from '../helpers/agent-state.js';


/** Every event the agent makes must pass the controller's schema. */
function assertValidEvent(event: unknown): void {
  validateValue('report', { agentId: 'node-1', sentAt: BUILT_AT, status: { group: 'production', channel: { commit: null, committedAt: null, stale: false, refusal: null }, apps: [] }, events: [event] }, 'report');
}

test('a change from nothing is an install, with the outcome and the history id', () => {
  const e = eventOfHistory(historyEntry({ id: 'abc', from: null, to: '1.0.0', commit: 'a'.repeat(40), ms: 1200 }));
  assert.equal(e, { id: 'abc', at: BUILT_AT, type: 'install', outcome: 'applied', app: 'shop', from: null, to: '1.0.0', reason: 'in window', commit: 'a'.repeat(40), ms: 1200 });
  assertValidEvent(e);
});

test('versions compare numerically part by part: 1.10.0 after 1.9.2 is an upgrade, back is a downgrade', () => {
  assert.is(eventOfHistory(historyEntry({ from: '1.9.2', to: '1.10.0' })).type, 'upgrade');
  assert.is(eventOfHistory(historyEntry({ from: '1.10.0', to: '1.9.2', outcome: 'rolled-back' })).type, 'downgrade');
  assert.is(eventOfHistory(historyEntry({ from: '1.10.0', to: '1.9.2', outcome: 'rolled-back' })).outcome, 'rolled-back');
});

test('compareVersions falls back to text order for parts that are not numbers', () => {
  assert.ok(compareVersions('1.2.1', '1.2') > 0);
  assert.ok(compareVersions('2.0.0-rc2', '2.0.0-rc1') > 0);
  assert.ok(compareVersions('beta', 'alpha') > 0);
  assert.is(compareVersions('1.2.0', '1.2.0'), 0);
});

test('the same version again is a reconfigure', () => {
  assert.is(eventOfHistory(historyEntry({ from: '1.3.0', to: '1.3.0' })).type, 'reconfigure');
});

test('a change triggered by duck restore is a restore, whatever the versions, even when it rolled back', () => {
  assert.is(eventOfHistory(historyEntry({ from: '1.3.0', to: '1.2.0', trigger: 'restore', reason: 'awaitHealth failed', outcome: 'rolled-back' })).type, 'restore');
  // A history written before entries carried the trigger: the restore's own reason says it.
  assert.is(eventOfHistory(historyEntry({ from: '1.3.0', to: '1.2.0', reason: 'duck restore shop-1.2.0-20261124' })).type, 'restore');
});

test('operator acts keep their own type and carry no outcome', () => {
  for (const outcome of ['backup', 'retry', 'stopped', 'started', 'orphaned', 'purged'] as const) {
    const e = eventOfHistory(historyEntry({ outcome, from: '1.3.0', to: outcome === 'purged' ? null : '1.3.0' }));
    assert.is(e.type, outcome);
    assert.is(e.outcome, undefined);
    assertValidEvent(e);
  }
});

test('a reason longer than the schema allows is cut, not refused', () => {
  const e = eventOfHistory(historyEntry({ reason: 'x'.repeat(10_000) }));
  assert.is(e.reason!.length, 4000);
  assertValidEvent(e);
});

test('a refusal gets an id from its tip and reason: the same refusal at every poll is one event', () => {
  const refusal = channelRefusal();
  const first = eventOfRefusal(refusal);
  const later = eventOfRefusal({ ...refusal, at: '2026-11-24T03:00:00.000Z' });
  assert.is(first.id, later.id);
  assert.is.not(first.id, eventOfRefusal({ ...refusal, tip: 'c'.repeat(40) }).id);
  assert.is(first.type, 'channel-refused');
  assertValidEvent(first);
});

test('history after the cursor is new; a cursor no longer in the history queues all of it', () => {
  const h = [historyEntry({ id: 'a' }), historyEntry({ id: 'b' }), historyEntry({ id: 'c' })];
  assert.equal(historySince(h, 'b').map((e) => e.id), ['c']);
  assert.equal(historySince(h, 'c').map((e) => e.id), []);
  assert.equal(historySince(h, null).map((e) => e.id), ['a', 'b', 'c']);
  assert.equal(historySince(h, 'gone').map((e) => e.id), ['a', 'b', 'c']);
});

test('before the first accept, the status lists installed apps with no decision and validates', () => {
  const state = agentState({ apps: { shop: installedApp('1.2.0', { stoppedByOperator: true }) }, failed: { web: failedVersion('2.0.0') } });
  state.channel.lastRefusal = channelRefusal();
  const status = agentStatus({ state, group: 'production', desired: null, stale: false });
  assert.equal(status.apps, [{ app: 'shop', current: '1.2.0', desired: null, decision: 'none', reason: 'no channel commit accepted yet', state: 'stopped' }]);
  assert.is(status.channel.refusal?.reason, 'unsigned');
  validateValue('report', { agentId: 'node-1', sentAt: BUILT_AT, status, events: [] }, 'report');
});

/** resolve()'s answer for one app at the start of a cycle: a change from `current` to `desired` is due. */
function dueChange(current: string | null, desired: string): DesiredState {
  const app: AppDesired = {
    app: 'shop', current, desired, source: 'group', groupVersion: desired, pinned: false, decision: 'apply', waitingFor: null, backoff: null,
    reason: 'in window', until: null, trigger: null, release: null, bucket: null, percent: null,
  };
  return { commit: 'a'.repeat(40), apps: [app], hold: null, approval: 'auto', windowsFrom: 'none', windows: [], nextWindow: null, windowOpen: true } as unknown as DesiredState;
}

test('a report sent after the cycle applied a change says the new version runs, not that the change is due', () => {
  const applied = agentStatus({ state: agentState({ apps: { shop: installedApp('1.2.0') } }), group: 'production', desired: dueChange('1.1.0', '1.2.0'), stale: false });
  assert.equal(applied.apps.map((a) => [a.current, a.desired, a.decision, a.reason]), [['1.2.0', '1.2.0', 'none', '1.2.0 runs: applied in the last cycle']]);
  const rolledBack = agentStatus({ state: agentState({ apps: { shop: installedApp('1.1.0') }, failed: { shop: failedVersion('1.2.0') } }), group: 'production', desired: dueChange('1.1.0', '1.2.0'), stale: false });
  assert.equal(rolledBack.apps.map((a) => [a.current, a.decision, a.state, a.failedVersion]), [['1.1.0', 'apply', 'failed', '1.2.0']]);
  const reconfigure = agentStatus({ state: agentState({ apps: { shop: installedApp('1.2.0') } }), group: 'production', desired: dueChange('1.2.0', '1.2.0'), stale: false });
  assert.is(reconfigure.apps[0]?.decision, 'apply', 'a reconfigure keeps its version: the report cannot tell it is done');
  validateValue('report', { agentId: 'node-1', sentAt: BUILT_AT, status: applied, events: [] }, 'report');
});

test('duck status\'s agent lines: what runs, the update asked and why it waits, each failed version with how to retry', () => {
  const failure = { version: '0.2.0', at: '2026-11-28T02:04:00Z', reason: 'sha256 mismatch', step: 'download' };
  const cases: [string, Parameters<typeof agentUpdateLines>[0], string[]][] = [
    ['waiting for a window', { current: '0.1.0', desired: '0.2.0', decision: 'wait', reason: 'waiting for the window Sat 02:00 UTC', failed: [] }, ['agent      0.1.0; update to 0.2.0: waiting for the window Sat 02:00 UTC']],
    ['up to date', { current: '0.2.0', desired: '0.2.0', decision: 'none', reason: '0.2.0 runs', failed: [] }, ['agent      0.2.0: 0.2.0 runs']],
    ['nothing asked', { current: '0.1.0', desired: null, decision: 'none', reason: 'the group asks no agent version', failed: [] }, ['agent      0.1.0: the group asks no agent version']],
    [
      'a version that failed here',
      { current: '0.1.0', desired: '0.2.0', decision: 'none', reason: '0.2.0 failed here', failed: [failure] },
      [
        'agent      0.1.0; update to 0.2.0: 0.2.0 failed here',
        'failed     agent 0.2.0 at 2026-11-28T02:04:00Z (download): sha256 mismatch; tried again when its release changes, or now with duck self-update --retry',
      ],
    ],
  ];
  for (const [name, agent, lines] of cases) {
    assert.equal(agentUpdateLines(agent), lines, name);
    validateValue('report', { agentId: 'node-1', sentAt: BUILT_AT, status: { group: 'production', channel: { commit: null, committedAt: null, stale: false, refusal: null }, apps: [], agent }, events: [] }, 'report');
  }
});

test.run();

function updateJournal(step: UpdateJournal['step']): UpdateJournal {
  return {
    format: 1, id: 'u-1', from: '0.1.0', to: '0.2.0', platform: 'linux-x64',
    artifact: { url: 'https://dl.example.com/duck-0.2.0-linux-x64.tar.gz', sha256: 'a'.repeat(64), size: 10 },
    releaseDigest: 'd'.repeat(64), step, outcome: 'running', reason: '', startedAt: '2026-11-30T12:00:00.000Z',
    switchedAt: null, deadline: null, updaterPid: 10, attempts: 1,
  };
}

test('an ended self-update is one agent-update event (agent versions, no app), its id from the journal; one in flight is none', () => {
  assert.is(eventOfUpdate(updateJournal('download')), null);
  const applied = eventOfUpdate(ended(updateJournal('health-wait'), 'applied', '0.2.0 proved healthy', new Date('2026-11-30T12:01:30Z')));
  assert.equal(applied, { id: 'agent-update-u-1', at: '2026-11-30T12:01:30.000Z', type: 'agent-update', outcome: 'applied', from: '0.1.0', to: '0.2.0', reason: '0.2.0 proved healthy', ms: 90_000 });
  assertValidEvent(applied);
  const refused = eventOfUpdate(ended(updateJournal('self-test'), 'failed', 'self-test of 0.2.0: exit 1', new Date('2026-11-30T12:00:10Z')));
  assert.equal([refused?.outcome, refused?.reason], ['failed', 'self-test of 0.2.0: exit 1 (at self-test)']);
  assertValidEvent(refused);
});

test("the report's agent block: the running build, the decision, the failed versions, valid against the schema", () => {
  const block = agentUpdateStatus('0.1.0', { decision: 'wait', target: '0.2.0', reason: 'waiting for window Sat 02:00 UTC', until: null }, {
    '0.1.5': { version: '0.1.5', at: '2026-11-29T02:00:00Z', reason: 'no healthy cycle in 5m', step: 'health-wait', releaseDigest: 'd'.repeat(64) },
  });
  assert.equal(block, { current: '0.1.0', desired: '0.2.0', decision: 'wait', reason: 'waiting for window Sat 02:00 UTC', failed: [{ version: '0.1.5', at: '2026-11-29T02:00:00Z', reason: 'no healthy cycle in 5m', step: 'health-wait' }] });
  validateValue('report', { agentId: 'node-1', sentAt: BUILT_AT, status: { group: 'production', channel: { commit: null, committedAt: null, stale: false, refusal: null }, apps: [], agent: block }, events: [] }, 'report');
  assert.equal(agentUpdateStatus('0.1.0', null, {}).reason, 'no channel commit accepted yet');
});
