// Issue 12 §9 and §12: a change that failed without stopping anything backs off per app and cause
// (1 min doubling to 1 h) instead of being tried at every poll; and every change that did not
// apply says whether the release or the node was at fault.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReleaseFile } from '../../schemas/index.js';
import { validateValue } from '../../schemas/index.js';
import type { AgentState, JournalEntry } from '../../agent/src/core/agent-state.js';
import { backoffInForce, CHANGE_BACKOFF, exponentialMs, nextBackoff } from '../../agent/src/core/backoff.js';
import type { ChangeEnd } from '../../agent/src/core/change-outcome.js';
import { recordChangeEnd } from '../../agent/src/core/change-outcome.js';
import { releaseDigest } from '../../agent/src/core/config-hash.js';
import type { ResolveInput } from '../../agent/src/core/desired.js';
import { resolve } from '../../agent/src/core/resolve.js';
import { CALENDAR } from '../../agent/src/core/windows.js';
import { eventOfHistory } from '../../agent/src/report/events.js';
import { agentStatus } from '../../agent/src/report/status.js';
import { agentState, BUILT_AT, BUILT_COMMIT, installedApp } from '../helpers/agent-state.js';

const T0 = new Date('2026-11-23T12:00:00Z');
const MIN = 60_000;
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const noSpace = { cause: 'no-space', message: 'backup needs 2 GiB, 1 GiB free', version: '1.3.0', releaseDigest: 'd1' };

test('the back-off starts at 1 min and doubles per failure up to 1 h', () => {
  assert.equal([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => exponentialMs(n, CHANGE_BACKOFF) / MIN), [1, 2, 4, 8, 16, 32, 60, 60, 60]);
});

test('failures of the same cause on the same release count on, from the first failure of the run', () => {
  const first = nextBackoff(undefined, noSpace, T0);
  assert.is(first.failures, 1);
  assert.is(first.nextTryAt, at(MIN).toISOString());
  const second = nextBackoff(first, { ...noSpace, message: 'still full' }, at(MIN));
  assert.is(second.failures, 2);
  assert.is(second.since, T0.toISOString());
  assert.is(second.nextTryAt, at(3 * MIN).toISOString());
  assert.is(second.message, 'still full');
});

test('another cause, or another release, starts the count again', () => {
  const twice = nextBackoff(nextBackoff(undefined, noSpace, T0), noSpace, at(MIN));
  assert.is(nextBackoff(twice, { ...noSpace, cause: 'docker' }, at(3 * MIN)).failures, 1);
  assert.is(nextBackoff(twice, { ...noSpace, version: '1.4.0', releaseDigest: 'd2' }, at(3 * MIN)).failures, 1);
  assert.is(nextBackoff(twice, { ...noSpace, releaseDigest: 'd2' }, at(3 * MIN)).failures, 1, 'the same version republished with other content');
});

test('a back-off holds only its own release, and only until its time', () => {
  const b = nextBackoff(undefined, noSpace, T0);
  assert.ok(backoffInForce(b, { version: '1.3.0', releaseDigest: 'd1' }, at(30_000)));
  assert.is(backoffInForce(b, { version: '1.3.0', releaseDigest: 'd1' }, at(MIN)), null, 'its time has come');
  assert.is(backoffInForce(b, { version: '1.4.0', releaseDigest: 'd9' }, at(1)), null, 'the channel moved on');
  assert.is(backoffInForce(b, { version: '1.3.0', releaseDigest: 'd2' }, at(1)), null, 'the release changed in the channel');
  assert.is(backoffInForce(undefined, { version: '1.3.0' }, at(1)), null);
});

// ── what a finished change leaves ─────────────────────────────────────────────────────────────

function journal(over: Partial<JournalEntry> = {}): JournalEntry {
  return {
    id: 'j-1',
    kind: 'upgrade',
    app: 'shop',
    from: '1.2.0',
    to: '1.3.0',
    commit: BUILT_COMMIT,
    trigger: 'channel',
    reason: 'no windows set',
    startedAt: BUILT_AT,
    steps: [],
    running: 2,
    runningDone: false,
    phase: 'forward',
    backupId: null,
    failure: null,
    configHash: 'h',
    releaseDigest: 'd1',
    migrations: 'reversible',
    ...over,
  };
}

function end(over: Partial<ChangeEnd> & Pick<ChangeEnd, 'outcome'>): { s: AgentState; entry: ReturnType<typeof recordChangeEnd> } {
  const s = agentState({ apps: { shop: installedApp('1.2.0') } });
  const j = journal();
  s.journal.shop = j;
  const entry = recordChangeEnd(s, j, { reason: 'why', quarantine: false, ...over }, T0, 'h-1');
  return { s, entry };
}

test('a failure that stopped nothing and is not the release\'s fault backs the app off, with its cause', () => {
  const { s, entry } = end({ outcome: 'failed', code: 'no-space', reason: 'not enough space for the backup' });
  assert.equal(s.backoff.shop, { cause: 'no-space', message: 'not enough space for the backup', failures: 1, since: T0.toISOString(), at: T0.toISOString(), nextTryAt: at(MIN).toISOString(), version: '1.3.0', releaseDigest: 'd1' });
  assert.is(s.failed.shop, undefined, 'not quarantined: the node, not the release, failed');
  assert.is(entry.blame, 'infrastructure');
});

test('a failure the release caused is quarantined, not backed off, and blamed on the release', () => {
  const { s, entry } = end({ outcome: 'rolled-back', quarantine: true, reason: 'awaitHealth failed: unhealthy' });
  assert.is(s.backoff.shop, undefined);
  assert.is(s.failed.shop?.version, '1.3.0');
  assert.is(entry.blame, 'release');
});

test('a kill, a rollback a kill forced and a failed rollback of a kill are the node\'s fault', () => {
  assert.is(end({ outcome: 'interrupted' }).entry.blame, 'infrastructure');
  assert.is(end({ outcome: 'rolled-back' }).entry.blame, 'infrastructure');
  assert.is(end({ outcome: 'rollback-failed' }).entry.blame, 'infrastructure');
  assert.is(end({ outcome: 'interrupted' }).s.backoff.shop, undefined, 'a kill is not retried later: the next cycle starts over');
});

test('an applied or deferred change carries no blame; an applied one lifts the back-off', () => {
  const { s, entry } = end({ outcome: 'applied' });
  assert.is(entry.blame, undefined);
  assert.is(s.backoff.shop, undefined);
  assert.is(end({ outcome: 'deferred' }).entry.blame, undefined);
  const after = agentState({ apps: { shop: installedApp('1.2.0') }, backoff: { shop: nextBackoff(undefined, noSpace, T0) } });
  recordChangeEnd(after, journal(), { outcome: 'applied', reason: 'ok', quarantine: false }, at(2 * MIN), 'h-2');
  assert.is(after.backoff.shop, undefined);
});

test('the blame goes into the report event and passes the report schema', () => {
  for (const [outcome, quarantine, blame] of [['failed', false, 'infrastructure'], ['rolled-back', true, 'release']] as const) {
    const event = eventOfHistory(end({ outcome, quarantine }).entry);
    assert.is(event.blame, blame);
    validateValue('report', { agentId: 'node-1', sentAt: BUILT_AT, status: { group: 'production', channel: { commit: null, committedAt: null, stale: false, refusal: null }, apps: [] }, events: [event] }, 'report');
  }
});

// ── resolve with a back-off in force ──────────────────────────────────────────────────────────

const RELEASE: ReleaseFile = { app: 'shop', version: '1.3.0', files: { 'compose.yaml': 'a'.repeat(64) } };

function input(o: { backoff?: AgentState['backoff']; now?: Date; upgradeNow?: ResolveInput['upgradeNow'] }): ResolveInput {
  return {
    commit: 'c'.repeat(40),
    group: { apps: { shop: '1.3.0' } },
    groupFile: 'groups/production.yaml',
    releases: new Map([['shop@1.3.0', RELEASE]]),
    releaseErrors: new Map(),
    overlay: {},
    overlayFile: '/etc/duck/overlay.yaml',
    now: o.now ?? at(30_000),
    clockRegressed: false,
    agentId: 'agent-7d0c',
    zone: 'UTC',
    calendar: CALENDAR,
    node: agentState({ apps: { shop: installedApp('1.2.0') }, backoff: o.backoff ?? {} }),
    upgradeNow: o.upgradeNow ?? new Set(),
  };
}

const backedOff = { shop: nextBackoff(undefined, { ...noSpace, releaseDigest: releaseDigest(RELEASE) }, T0) };

test('a change backing off waits for the back-off, until its next try, naming the cause', () => {
  const shop = resolve(input({ backoff: backedOff })).apps[0]!;
  assert.is(shop.decision, 'wait');
  assert.is(shop.waitingFor, 'backoff');
  assert.is(shop.until, at(MIN).toISOString());
  assert.match(shop.reason, /no-space/);
  assert.match(shop.reason, /duck retry shop/);
  assert.is(shop.backoff?.failures, 1);
});

test('once its time has come, or on duck upgrade, the change goes ahead', () => {
  assert.is(resolve(input({ backoff: backedOff, now: at(MIN) })).apps[0]!.decision, 'apply');
  assert.is(resolve(input({ backoff: backedOff, upgradeNow: new Set(['shop']) })).apps[0]!.decision, 'apply');
});

test('a back-off for another release does not hold the one the channel asks for now', () => {
  const other = { shop: nextBackoff(undefined, { ...noSpace, version: '1.2.5', releaseDigest: 'x' }, T0) };
  assert.is(resolve(input({ backoff: other })).apps[0]!.decision, 'apply');
});

test('the report status carries the back-off and the wait kind, valid under the report schema', () => {
  const state = agentState({ apps: { shop: installedApp('1.2.0') }, backoff: backedOff });
  const status = agentStatus({ state, group: 'production', desired: resolve(input({ backoff: backedOff })), stale: false });
  const shop = status.apps[0]!;
  assert.is(shop.waitingFor, 'backoff');
  assert.is(shop.until, at(MIN).toISOString());
  assert.equal(shop.backoff, { cause: 'no-space', message: noSpace.message, failures: 1, since: T0.toISOString(), nextTryAt: at(MIN).toISOString() });
  assert.is(shop.groupVersion, '1.3.0');
  assert.is(shop.pinned, false);
  validateValue('report', { agentId: 'node-1', sentAt: BUILT_AT, status, events: [] }, 'report');
});

test.run();
