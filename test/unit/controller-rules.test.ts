// The controller's pure rules, table-driven: an agent's state (worst wins), the failure rate and
// its threshold, the fleet summary's desired version, retention of events and seen ids, and the
// display names of uploads.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deriveAgentState, type StateFacts } from '../../controller/src/agent-state.js';
import { sanitizeFilename } from '../../controller/src/diagnostics-files.js';
import { parseDuration } from '../../controller/src/duration.js';
import { verdictOf, worseVerdict, type NodeVerdict } from '../../controller/src/change-verdict.js';
import { crossesThreshold, failureRate } from '../../controller/src/failure-rate.js';
import { agentVersionsSummary, emptyAgentVersionTally, tallyAgentVersion } from '../../controller/src/agent-versions.js';
import { summarizeFleet } from '../../controller/src/fleet-summary.js';
import { FleetData, emptyFleetFile, type FleetFile } from '../../controller/src/store/fleet-data.js';
import { MAX_RECENT_FAILURES, addFailure } from '../../controller/src/store/failure-log.js';
import type { AgentRecord, FailureRecord } from '../../controller/src/store/fleet-store.js';
import type { FailureBlame, ReportEvent } from '../../schemas/index.js';
import { buildAgentUpdate, buildApp, buildChange, buildFacts, buildReport } from '../helpers/controller.js';

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

test('agent state: worst wins in the order failed, refused, unreachable, stale, offline, updating, waiting, ok', () => {
  const refusal = { reason: 'unsigned', message: 'no signature', at: '2026-03-01T00:00:00Z' };
  const fetchFailure = { reason: 'fetch', message: 'connect ECONNREFUSED', since: '2026-03-01T10:00:00Z', at: '2026-03-01T11:55:00Z', failures: 7, nextTryAt: '2026-03-01T12:05:00Z' };
  const cases: [string, StateFacts, string][] = [
    ['an app failed, even offline and refused', agent({ apps: [buildApp('a', '1', { state: 'failed' })], channel: { refusal }, seenMinutesAgo: 60 }), 'failed'],
    ['last change rollback-failed', agent({ lastOutcomes: { a: 'rollback-failed' } }), 'failed'],
    ['channel refused, even stale', agent({ channel: { refusal, stale: true } }), 'refused'],
    ['channel unreachable, even stale and offline', agent({ channel: { fetchFailure, stale: true }, seenMinutesAgo: 60 }), 'unreachable'],
    ['channel refused, even unreachable', agent({ channel: { refusal, fetchFailure } }), 'refused'],
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

test('failure rate: nodes where the release failed / nodes that tried it; infrastructure failures apart', () => {
  const nodes = (applied: number, releaseFailed: number, infrastructureFailed = 0) => ({ nodes: { applied, releaseFailed, infrastructureFailed } });
  assert.equal(failureRate(nodes(3, 1, 2)), { attempts: 4, failures: 1, rate: 0.25, infrastructureFailures: 2 });
  assert.equal(failureRate(nodes(0, 0, 5)), { attempts: 0, failures: 0, rate: 0, infrastructureFailures: 5 });
  const policy = { threshold: 0.2, minAttempts: 3 };
  assert.not.ok(crossesThreshold(failureRate(nodes(0, 2)), policy), 'below min attempts');
  assert.ok(crossesThreshold(failureRate(nodes(4, 1)), policy), 'exactly at the threshold');
  assert.not.ok(crossesThreshold(failureRate(nodes(5, 1, 10)), policy), '1/6 is below 0.2, whatever the infrastructure did');
});

test('verdicts: the event\'s blame decides; without it, rollbacks are the release\'s, failed and interrupted the node\'s', () => {
  const cases: [ReportEvent['outcome'], FailureBlame | undefined, NodeVerdict | null][] = [
    ['applied', undefined, 'applied'],
    ['deferred', undefined, null],
    ['rolled-back', undefined, 'release-failed'],
    ['rollback-failed', undefined, 'release-failed'],
    ['failed', undefined, 'infrastructure-failed'],
    ['interrupted', undefined, 'infrastructure-failed'],
    ['rolled-back', 'infrastructure', 'infrastructure-failed'],
    ['rollback-failed', 'infrastructure', 'infrastructure-failed'],
    ['failed', 'release', 'release-failed'],
  ];
  for (const [outcome, blame, expected] of cases) assert.is(verdictOf({ outcome, ...(blame ? { blame } : {}) }), expected, `${outcome} ${blame ?? '(no blame)'}`);
  assert.is(worseVerdict('release-failed', 'applied'), 'release-failed', 'a retry that worked does not undo a release failure');
  assert.is(worseVerdict('infrastructure-failed', 'applied'), 'applied', 'a success outranks an engine outage');
  assert.is(worseVerdict('applied', 'infrastructure-failed'), 'applied');
  assert.is(worseVerdict('infrastructure-failed', 'release-failed'), 'release-failed');
});

test('a node counts once per version: its worst verdict; a new version is a new count', () => {
  const data = new FleetData(emptyFleetFile());
  data.register('v-1', buildFacts(), 'hash', new Date(NOW));
  const send = (...events: ReportEvent[]) => data.applyReport(buildReport('v-1', { events }), new Date(NOW));
  send(buildChange('shop', '1', '2', 'rolled-back', { blame: 'infrastructure' }), buildChange('shop', '1', '2', 'failed'));
  assert.equal(data.file.outcomes[0]!.nodes, { applied: 0, releaseFailed: 0, infrastructureFailed: 1 });
  send(buildChange('shop', '1', '2', 'applied'));
  assert.equal(data.file.outcomes[0]!.nodes, { applied: 1, releaseFailed: 0, infrastructureFailed: 0 });
  send(buildChange('shop', '2', '3', 'rolled-back'), buildChange('shop', '2', '3', 'rolled-back'));
  assert.equal(data.file.outcomes[1]!.nodes, { applied: 0, releaseFailed: 1, infrastructureFailed: 0 });
  assert.equal([data.file.outcomes[1]!.rolledBack, data.file.outcomes[1]!.failedAgents], [2, ['v-1']]);
  assert.equal(data.file.outcomes[0]!.nodes.applied, 1, 'moving on leaves the old version\'s count');
});

test('a data file from before node counts and folded failures loads with their defaults', () => {
  const file = emptyFleetFile();
  const oldRow = { group: 'g', app: 'shop', version: '2', applied: 3, rolledBack: 1, rollbackFailed: 0, deferred: 0, failedAgents: ['a'] };
  const oldFailure = { agentId: 'a', hostname: 'h', group: 'g', app: 'shop', from: '1', to: '2', outcome: 'interrupted', reason: 'killed', at: '2026-03-01T10:00:00Z' };
  file.outcomes.push(oldRow as unknown as FleetFile['outcomes'][number]);
  file.recentFailures.push(oldFailure as unknown as FailureRecord);
  const data = new FleetData(file);
  assert.equal(data.file.outcomes[0]!.nodes, { applied: 0, releaseFailed: 0, infrastructureFailed: 0 });
  assert.equal([data.file.outcomes[0]!.failed, data.file.outcomes[0]!.interrupted], [0, 0]);
  const failure = data.file.recentFailures[0]!;
  assert.equal({ count: failure.count, firstAt: failure.firstAt, agents: failure.agents, agentIds: failure.agentIds, blame: failure.blame }, { count: 1, firstAt: failure.at, agents: 1, agentIds: ['a'], blame: 'infrastructure' });
});

test('recent failures fold the same failure into one record with a count, first and last time, and its nodes', () => {
  const log: FailureRecord[] = [];
  const failure = (agentId: string, at: string, reason = 'no space left on device') =>
    ({ agentId, hostname: `h-${agentId}`, group: 'g', app: 'shop', from: '1', to: '2', outcome: 'failed', reason, blame: 'infrastructure', at }) as const;
  addFailure(log, failure('a', '2026-03-01T10:00:00Z'));
  addFailure(log, failure('b', '2026-03-01T10:01:00Z', 'health: answered 500'));
  addFailure(log, failure('a', '2026-03-01T10:02:00Z'));
  addFailure(log, failure('c', '2026-03-01T10:03:00Z'));
  assert.is(log.length, 2);
  const folded = log[1]!;
  assert.equal(
    { count: folded.count, firstAt: folded.firstAt, at: folded.at, agents: folded.agents, agentIds: folded.agentIds, agentId: folded.agentId },
    { count: 3, firstAt: '2026-03-01T10:00:00Z', at: '2026-03-01T10:03:00Z', agents: 2, agentIds: ['a', 'c'], agentId: 'c' },
  );
  assert.is(log[0]!.reason, 'health: answered 500');
  for (let i = 0; i < MAX_RECENT_FAILURES + 5; i++) addFailure(log, failure('a', '2026-03-01T11:00:00Z', `reason ${i}`));
  assert.is(log.length, MAX_RECENT_FAILURES);
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
    pinned: 0,
    stopped: 0,
    windowWaits: 0,
    backingOff: 0,
  });
});

test('fleet summary: the rollout targets the group\'s version, not a pin; pinned agents are counted apart', () => {
  const summary = summarizeFleet({
    agents: [
      record('1', 'g', [buildApp('shop', '1.0.0', { desired: '1.0.0', groupVersion: '1.1.0', pinned: true })]),
      record('2', 'g', [buildApp('shop', '1.1.0', { desired: '1.1.0', groupVersion: '1.1.0' })]),
      record('3', 'g', [buildApp('shop', '1.0.0', { desired: '1.1.0', groupVersion: '1.1.0', decision: 'wait', waitingFor: 'window', until: '2026-03-02T02:00:00Z' })]),
      record('4', 'g', [buildApp('shop', '1.0.0', { desired: '1.0.0', groupVersion: '1.1.0', pinned: true, state: 'stopped' })]),
    ],
    outcomes: [],
    recentFailures: [],
    alerts: [],
    now: new Date(NOW),
    offlineAfterMs: 15 * MINUTE,
  });
  const { desired, upToDate, total, pinned, stopped, windowWaits } = summary.groups[0]!.apps[0]!;
  assert.equal({ desired, upToDate, total, pinned, stopped, windowWaits }, { desired: '1.1.0', upToDate: 1, total: 2, pinned: 2, stopped: 1, windowWaits: 1 });
});

test('agent versions: numeric order, the most asked version (a tie goes to the higher), each node once per failed version', () => {
  const failure = (version: string) => ({ version, at: '2026-03-01T02:00:00Z', reason: 'self-test exit 1', step: 'self-test' });
  const nodes = [
    { version: '0.9.0', agent: buildAgentUpdate('0.9.0', { desired: '0.10.0', decision: 'wait', failed: [failure('0.10.0'), failure('0.10.0')] }) },
    { version: '0.10.0', agent: buildAgentUpdate('0.10.0') },
    { version: '0.9.0', agent: buildAgentUpdate('0.9.0', { desired: '0.9.0', failed: [failure('0.10.0'), failure('0.9.1')] }) },
    { version: '0.8.0', agent: undefined },
  ];
  const tally = emptyAgentVersionTally();
  for (const n of nodes) tallyAgentVersion(tally, { facts: buildFacts({ agentVersion: n.version }), status: buildReport('x', { agent: n.agent }).status });
  assert.equal(agentVersionsSummary(tally), {
    versions: [{ version: '0.8.0', agents: 1 }, { version: '0.9.0', agents: 2 }, { version: '0.10.0', agents: 1 }],
    desired: '0.10.0',
    upToDate: 1,
    waiting: 1,
    failed: [{ version: '0.9.1', agents: 1 }, { version: '0.10.0', agents: 2 }],
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
