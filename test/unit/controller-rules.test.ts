// The controller's pure rules, table-driven: an agent's state (worst wins), the failure rate and
// its threshold, the fleet summary's desired version, retention of events and seen ids, and the
// display names of uploads.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deriveAgentState, type StateFacts } from '../../controller/src/agent-state.js';
import { sanitizeFilename } from '../../controller/src/diagnostics-files.js';
import { parseDuration } from '../../controller/src/duration.js';
import { crossesThreshold, failureRate } from '../../controller/src/failure-rate.js';
import { summarizeFleet } from '../../controller/src/fleet-summary.js';
import { FleetData, emptyFleetFile } from '../../controller/src/store/fleet-data.js';
import type { AgentRecord } from '../../controller/src/store/fleet-store.js';
import { buildApp, buildChange, buildFacts, buildReport } from '../helpers/controller.js';

const test = suite('controller rules');
const NOW = Date.parse('2026-03-01T12:00:00Z');
const MINUTE = 60_000;

function agent(shape: Parameters<typeof buildReport>[1] & { seenMinutesAgo?: number; lastOutcomes?: AgentRecord['lastOutcomes'] }): StateFacts {
  return {
    status: buildReport('x', shape).status,
    lastSeenAt: new Date(NOW - (shape.seenMinutesAgo ?? 1) * MINUTE).toISOString(),
    enrolledAt: '2026-01-01T00:00:00Z',
    lastOutcomes: shape.lastOutcomes ?? {},
  };
}

test('agent state: worst wins in the order failed, refused, stale, offline, updating, waiting, ok', () => {
  const refusal = { reason: 'unsigned', message: 'no signature', at: '2026-03-01T00:00:00Z' };
  const cases: [string, StateFacts, string][] = [
    ['an app failed, even offline and refused', agent({ apps: [buildApp('a', '1', { state: 'failed' })], channel: { refusal }, seenMinutesAgo: 60 }), 'failed'],
    ['last change rollback-failed', agent({ lastOutcomes: { a: 'rollback-failed' } }), 'failed'],
    ['channel refused, even stale', agent({ channel: { refusal, stale: true } }), 'refused'],
    ['channel stale, even offline', agent({ channel: { stale: true }, seenMinutesAgo: 60 }), 'stale'],
    ['silent past offline-after, even updating', agent({ apps: [buildApp('a', '1', { decision: 'apply' })], seenMinutesAgo: 16 }), 'offline'],
    ['a decision apply', agent({ apps: [buildApp('a', '1', { decision: 'wait' }), buildApp('b', '1', { decision: 'apply' })] }), 'updating'],
    ['a decision wait', agent({ apps: [buildApp('a', '1', { decision: 'wait' })] }), 'waiting'],
    ['nothing to do', agent({}), 'ok'],
    ['a rolled-back change alone is not failed', agent({ lastOutcomes: { a: 'rolled-back' } }), 'ok'],
    ['never reported, enrolled long ago', { status: null, lastSeenAt: null, enrolledAt: '2026-01-01T00:00:00Z', lastOutcomes: {} }, 'offline'],
  ];
  for (const [label, facts, expected] of cases) assert.is(deriveAgentState(facts, NOW, 15 * MINUTE), expected, label);
});

test('failure rate: (rolled-back + rollback-failed) / attempts; deferred is not an attempt', () => {
  assert.equal(failureRate({ applied: 3, rolledBack: 1, rollbackFailed: 0 }), { attempts: 4, failures: 1, rate: 0.25 });
  assert.equal(failureRate({ applied: 0, rolledBack: 0, rollbackFailed: 0 }), { attempts: 0, failures: 0, rate: 0 });
  const policy = { threshold: 0.2, minAttempts: 3 };
  assert.not.ok(crossesThreshold(failureRate({ applied: 0, rolledBack: 2, rollbackFailed: 0 }), policy), 'below min attempts');
  assert.ok(crossesThreshold(failureRate({ applied: 4, rolledBack: 0, rollbackFailed: 1 }), policy), 'exactly at the threshold');
  assert.not.ok(crossesThreshold(failureRate({ applied: 5, rolledBack: 1, rollbackFailed: 0 }), policy), '1/6 is below 0.2');
});

function record(id: string, group: string, apps: ReturnType<typeof buildApp>[]): AgentRecord {
  return { agentId: id, tokenHash: '', facts: buildFacts({ group }), enrolledAt: '2026-01-01T00:00:00Z', lastSeenAt: new Date(NOW).toISOString(), status: buildReport(id, { group, apps }).status, lastOutcomes: {} };
}

test('fleet summary: desired is the most wanted version (a tie goes to the higher); upToDate counts agents running it', () => {
  const summary = summarizeFleet({
    agents: [
      record('1', 'g', [buildApp('shop', '1.9.0', { desired: '1.10.0' })]),
      record('2', 'g', [buildApp('shop', '1.10.0', { desired: '1.10.0' })]),
      record('3', 'g', [buildApp('shop', '1.9.0', { desired: '1.9.0' })]),
      record('4', 'g', [buildApp('shop', null, { desired: '1.9.0' })]),
    ],
    outcomes: [],
    recentFailures: [],
    alerts: [],
    now: new Date(NOW),
    offlineAfterMs: 15 * MINUTE,
  });
  assert.equal(summary.groups[0]!.apps[0], {
    app: 'shop',
    versions: [
      { version: '1.9.0', agents: 2 },
      { version: '1.10.0', agents: 1 },
    ],
    desired: '1.10.0',
    upToDate: 1,
    total: 4,
  });
});

test('retention drops old events and their ids together, so the seen set stays bounded', () => {
  const data = new FleetData(emptyFleetFile());
  data.register('r-1', buildFacts(), 'hash', new Date(NOW));
  const old = buildChange('shop', '1', '2', 'applied');
  data.applyReport(buildReport('r-1', { events: [old] }), new Date(NOW - 100 * 86_400_000));
  const fresh = buildChange('shop', '2', '3', 'applied');
  data.applyReport(buildReport('r-1', { events: [fresh] }), new Date(NOW));
  const pruned = data.prune(new Date(NOW), { eventRetentionMs: 90 * 86_400_000, diagnosticsRetentionMs: 30 * 86_400_000 });
  assert.is(pruned.events, 1);
  assert.equal(data.agent('r-1')!.events.map((e) => e.id), [fresh.id]);
  const again = data.applyReport(buildReport('r-1', { events: [fresh] }), new Date(NOW));
  assert.equal([again.accepted, again.duplicates], [0, 1]);
});

test('an agent id like "constructor" is an ordinary agent, not a property of Object.prototype', () => {
  const data = new FleetData(emptyFleetFile());
  assert.is(data.agent('constructor'), undefined);
  data.register('constructor', buildFacts(), 'h', new Date(NOW));
  assert.is(data.agent('constructor')!.agentId, 'constructor');
});

test('upload display names keep only the last segment in [A-Za-z0-9._-], never a path', () => {
  const cases: [string | undefined, string][] = [
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\x\\diag.tar.gz', 'diag.tar.gz'],
    ['..', 'fallback.tar.gz'],
    ['.hidden', 'hidden'],
    ['my bundle "1".tar.gz', 'my_bundle_1_.tar.gz'],
    [undefined, 'fallback.tar.gz'],
  ];
  for (const [raw, expected] of cases) assert.is(sanitizeFilename(raw, 'fallback.tar.gz'), expected, String(raw));
});

test('durations: 15m, 90d, 1h30m; anything else names the option', () => {
  assert.is(parseDuration('15m', '--offline-after'), 15 * MINUTE);
  assert.is(parseDuration('90d', '--event-retention'), 90 * 86_400_000);
  assert.is(parseDuration('1h30m', '--x'), 90 * MINUTE);
  assert.throws(() => parseDuration('soon', '--offline-after'), /--offline-after/);
  assert.throws(() => parseDuration('0s', '--offline-after'), /longer than zero/);
});

test.run();
