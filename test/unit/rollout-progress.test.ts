// Rollout progress from the agents' last reports, table-driven: each node in one bucket (pinned,
// held, healthy, failed by the release or by the node, offline, window, rollout percent, updating,
// other), the target the group asks for, the commits, and the timeline from stored events.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyPlaceCounts, inRollout, placeOf, rolloutProgress, rolloutTimeline, type NodePlace } from '../../controller/src/rollout-progress.js';
import type { AgentRecord, StoredEvent } from '../../controller/src/store/fleet-store.js';
import type { AppStatus } from '../../schemas/index.js';
import { buildApp, buildChange, buildFacts, buildReport } from '../helpers/controller.js';

const test = suite('rollout progress');
const NOW = new Date('2026-03-01T12:00:00Z');
const MINUTE = 60_000;
const OFFLINE_AFTER = 15 * MINUTE;

interface Shape {
  group?: string;
  app: AppStatus;
  held?: boolean;
  commit?: string;
  seenMinutesAgo?: number;
  verdict?: NonNullable<AgentRecord['verdicts']>[string];
}

let seq = 0;
function node(shape: Shape): AgentRecord {
  const report = buildReport(`n${++seq}`, { group: shape.group ?? 'canary', apps: [shape.app], channel: { commit: shape.commit ?? 'c'.repeat(40) } });
  return {
    agentId: report.agentId,
    tokenHash: 'x',
    facts: buildFacts(),
    enrolledAt: '2026-01-01T00:00:00Z',
    lastSeenAt: new Date(NOW.getTime() - (shape.seenMinutesAgo ?? 1) * MINUTE).toISOString(),
    status: { ...report.status, ...(shape.held ? { held: true } : {}) },
    lastOutcomes: {},
    ...(shape.verdict ? { verdicts: { [shape.app.app]: shape.verdict } } : {}),
  };
}

/** An app whose group asks for 1.2.0. */
const hello = (current: string | null, overrides: Partial<AppStatus> = {}): AppStatus => buildApp('hello', current, { groupVersion: '1.2.0', desired: '1.2.0', ...overrides });

test('each node falls in one place, first match wins', () => {
  const cases: [string, Shape, NodePlace][] = [
    ['runs the target, running', { app: hello('1.2.0') }, 'healthy'],
    ['pinned, even running the target', { app: hello('1.2.0', { pinned: true }) }, 'pinned'],
    ['held node', { app: hello('1.1.0', { decision: 'wait', waitingFor: 'hold' }), held: true }, 'held'],
    ['a retry that worked is healthy', { app: hello('1.2.0'), verdict: { group: 'canary', version: '1.2.0', verdict: 'release-failed' } }, 'healthy'],
    ['rolled back: the version failed here', { app: hello('1.1.0', { state: 'failed', failedVersion: '1.2.0', decision: 'wait', waitingFor: 'failed' }) }, 'releaseFailed'],
    ['the stored verdict says the release failed', { app: hello('1.1.0'), verdict: { group: 'canary', version: '1.2.0', verdict: 'release-failed' } }, 'releaseFailed'],
    ['a failure of an older version is no failure of this one', { app: hello('1.1.0', { decision: 'apply' }), verdict: { group: 'canary', version: '1.1.0', verdict: 'release-failed' } }, 'updating'],
    ['the engine failed it', { app: hello('1.1.0'), verdict: { group: 'canary', version: '1.2.0', verdict: 'infrastructure-failed' } }, 'infrastructureFailed'],
    [
      'backing off toward the target',
      { app: hello('1.1.0', { decision: 'wait', waitingFor: 'backoff', backoff: { cause: 'no-space', message: 'disk full', failures: 2, since: '2026-03-01T11:00:00Z', nextTryAt: '2026-03-01T12:10:00Z' } }) },
      'infrastructureFailed',
    ],
    ['silent past offline-after, even running the target', { app: hello('1.2.0'), seenMinutesAgo: 30 }, 'offline'],
    ['waits for its window', { app: hello('1.1.0', { decision: 'wait', waitingFor: 'window' }) }, 'window'],
    ['not admitted by the rollout percent yet', { app: hello('1.1.0', { decision: 'wait', waitingFor: 'rollout' }) }, 'rollout'],
    ['a change is due', { app: hello('1.1.0', { decision: 'apply' }) }, 'updating'],
    ['stopped by the operator on the target', { app: hello('1.2.0', { state: 'stopped' }) }, 'other'],
    ['waits for approval', { app: hello('1.1.0', { decision: 'wait', waitingFor: 'approval' }) }, 'other'],
  ];
  for (const [label, shape, expected] of cases) {
    const agent = node(shape);
    assert.is(placeOf({ agent, app: agent.status!.apps[0]!, online: (shape.seenMinutesAgo ?? 1) * MINUTE <= OFFLINE_AFTER }, '1.2.0'), expected, label);
  }
});

test('per group and app: the target the group asks for (not a pin), the commits, and the counts', () => {
  const oldCommit = 'b'.repeat(40);
  const agents = [
    node({ app: hello('1.2.0') }),
    node({ app: hello('1.2.0') }),
    node({ app: hello('1.0.0', { desired: '1.0.0', pinned: true }) }),
    node({ app: hello('1.1.0', { decision: 'wait', waitingFor: 'rollout' }) }),
    node({ app: hello('1.1.0', { state: 'failed', failedVersion: '1.2.0' }) }),
    node({ app: hello('1.1.0', { groupVersion: '1.1.0', desired: '1.1.0' }), commit: oldCommit }),
    node({ group: 'production', app: hello('1.1.0', { groupVersion: '1.1.0', desired: '1.1.0' }) }),
    node({ app: buildApp('other', '3.0.0') }),
  ];
  const all = rolloutProgress({ agents, now: NOW, offlineAfterMs: OFFLINE_AFTER });
  assert.equal(
    all.map((r) => [r.group, r.app, r.desired]),
    [
      ['canary', 'hello', '1.2.0'],
      ['canary', 'other', '3.0.0'],
      ['production', 'hello', '1.1.0'],
    ],
  );
  const [canary] = rolloutProgress({ agents, now: NOW, offlineAfterMs: OFFLINE_AFTER, filter: { group: 'canary', app: 'hello' } });
  assert.ok(canary);
  assert.is(canary.version, '1.2.0');
  assert.equal(canary.commits, [
    { commit: 'c'.repeat(40), nodes: 5 },
    { commit: oldCommit, nodes: 1 },
  ]);
  assert.equal(canary.counts, { ...emptyPlaceCounts(), healthy: 2, pinned: 1, rollout: 1, releaseFailed: 1, other: 1 });
  assert.is(canary.total, 6);
  assert.is(inRollout(canary), 5);

  const [asked] = rolloutProgress({ agents, now: NOW, offlineAfterMs: OFFLINE_AFTER, filter: { group: 'canary', app: 'hello', version: '1.1.0' } });
  assert.is(asked?.desired, '1.2.0', 'the group still asks for 1.2.0');
  assert.is(asked?.version, '1.1.0');
  assert.is(asked?.counts.healthy, 2, 'the node on the old commit and the one the percent has not admitted run 1.1.0; the failed node runs it in state failed');
  assert.equal(rolloutProgress({ agents, now: NOW, offlineAfterMs: OFFLINE_AFTER, filter: { group: 'nowhere' } }), []);
});

test('timeline: changes to the version oldest first, nodes that applied it counted once, bounded to the newest', () => {
  const at = (minute: number): string => new Date(NOW.getTime() + minute * MINUTE).toISOString();
  const stored = (e: ReturnType<typeof buildChange>): StoredEvent => ({ ...e, receivedAt: e.at });
  const events = new Map<string, StoredEvent[]>([
    ['n1', [stored(buildChange('hello', '1.1.0', '1.2.0', 'applied', { at: at(3) })), stored(buildChange('hello', '1.1.0', '1.2.0', 'rolled-back', { at: at(1) }))]],
    ['n2', [stored(buildChange('hello', '1.1.0', '1.2.0', 'applied', { at: at(2) })), stored(buildChange('other', '1', '1.2.0', 'applied', { at: at(0) }))]],
    ['n3', [stored(buildChange('hello', '1.1.0', '1.2.0', 'deferred', { at: at(4) })), stored(buildChange('hello', '1.0.0', '1.1.0', 'applied', { at: at(0) }))]],
  ]);
  assert.equal(
    rolloutTimeline(events, 'hello', '1.2.0', 10).map((e) => [e.agentId, e.outcome, e.applied]),
    [
      ['n1', 'rolled-back', 0],
      ['n2', 'applied', 1],
      ['n1', 'applied', 2],
    ],
  );
  assert.equal(
    rolloutTimeline(events, 'hello', '1.2.0', 1).map((e) => [e.agentId, e.applied]),
    [['n1', 2]],
    'the newest entry only, its count still from all of them',
  );
});

test.run();
