// Issue 13: an idle daemon keeps its decisions until decisionsValidUntil(); that is only right if
// resolve() answers exactly the same at every instant before that edge. Checked here over windows,
// holds, rollout steps, back-offs and schedules, and the edge is checked to be the real change.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { GroupFile, OverlayFile, ReleaseFile } from '../../schemas/index.js';
import { acceptNeedsRecord, CHECK_RECORD_MS, recordAccepted } from '../../agent/src/core/channel-record.js';
import type { AcceptedAnchor } from '../../agent/src/core/agent-state.js';
import type { NodeFacts, ResolveInput } from '../../agent/src/core/desired.js';
import { decisionsValidUntil, resolve } from '../../agent/src/core/resolve.js';
import { CALENDAR } from '../../agent/src/core/windows.js';
import { agentState, BUILT_AT, BUILT_COMMIT, installedApp } from '../helpers/agent-state.js';

const HOUR = 3_600_000;
const NOW = '2026-11-25T12:00:00Z';
const SHANGHAI = [{ days: ['sat', 'sun'] as ['sat', 'sun'], start: '02:00', duration: '3h', timezone: 'Asia/Shanghai' }];

function at(now: string | number, o: { group?: Partial<GroupFile>; overlay?: OverlayFile; node?: Partial<NodeFacts> } = {}): ResolveInput {
  const shop: ReleaseFile = { app: 'shop', version: '1.3.0', files: { 'compose.yaml': 'a'.repeat(64) } };
  return {
    commit: 'c'.repeat(40),
    group: { apps: { shop: '1.3.0', cart: '2.0.0' }, ...o.group },
    groupFile: 'groups/production.yaml',
    releases: new Map([['shop@1.3.0', shop]]),
    releaseErrors: new Map(),
    overlay: o.overlay ?? {},
    overlayFile: 'overlay.yaml',
    now: new Date(now),
    clockRegressed: false,
    agentId: 'agent-7d0c',
    zone: 'UTC',
    calendar: CALENDAR,
    node: agentState({ apps: { shop: installedApp('1.2.0'), cart: installedApp('2.0.0') }, ...o.node }),
    upgradeNow: new Set(),
  };
}

/** resolve() at every sampled instant before the edge equals its answer now; returns the edge. */
function holdsUntilEdge(make: (now: number) => ResolveInput, maxAgeMs = 30 * 24 * HOUR): number {
  const start = Date.parse(NOW);
  const first = make(start);
  const answer = resolve(first);
  const edge = decisionsValidUntil(first, answer, maxAgeMs).getTime();
  assert.ok(edge > start, 'the edge is after now');
  const span = edge - start;
  for (const t of [start + 1, start + span / 3, start + span / 2, edge - 1]) assert.equal(resolve(make(t)), answer, `same answer at ${new Date(t).toISOString()}`);
  return edge;
}

const changesAt = (make: (now: number) => ResolveInput, edge: number): boolean =>
  JSON.stringify(resolve(make(edge))) !== JSON.stringify(resolve(make(Date.parse(NOW))));

test('outside a window: kept until this node\'s turn in the next one, which decides otherwise', () => {
  const make = (t: number) => at(t, { group: { windows: SHANGHAI } });
  const edge = holdsUntilEdge(make);
  assert.ok(edge <= Date.parse('2026-11-28T00:00:00Z'));
  assert.ok(changesAt(make, edge));
});

test('a window that opens while every app runs what it should: the open state is an edge too', () => {
  const make = (t: number) => at(t, { group: { apps: { cart: '2.0.0' }, windows: SHANGHAI } });
  const edge = holdsUntilEdge(make);
  assert.is(new Date(edge).toISOString(), '2026-11-27T18:00:00.000Z');
  assert.ok(changesAt(make, edge), 'windowOpen flips');
});

test("a hold with an end: kept until it ends, and it ends there", () => {
  const make = (t: number) => at(t, { overlay: { hold: { reason: 'audit', until: '2026-11-26T09:30:00Z' } } });
  const edge = holdsUntilEdge(make);
  assert.is(new Date(edge).toISOString(), '2026-11-26T09:30:00.000Z');
  assert.ok(changesAt(make, edge));
});

test('a rollout: kept until the next step, whose percent the wait names', () => {
  const rollout = [
    { at: '2026-11-25T00:00:00Z', percent: 0 },
    { at: '2026-11-26T00:00:00Z', percent: 1 },
    { at: '2026-11-27T00:00:00Z', percent: 100 },
  ];
  const make = (t: number) => at(t, { group: { rollout } });
  const edge = holdsUntilEdge(make);
  assert.is(new Date(edge).toISOString(), '2026-11-26T00:00:00.000Z');
  assert.ok(changesAt(make, edge));
});

test('a back-off and a schedule: kept until the next try and the scheduled time', () => {
  const backoff = { cause: 'no-space', message: 'disk full', failures: 1, since: BUILT_AT, at: BUILT_AT, nextTryAt: '2026-11-25T12:05:00Z', version: '1.3.0' };
  const backingOff = (t: number) => at(t, { node: { backoff: { shop: backoff } } });
  assert.is(new Date(holdsUntilEdge(backingOff)).toISOString(), '2026-11-25T12:05:00.000Z');
  assert.ok(changesAt(backingOff, Date.parse('2026-11-25T12:05:00Z')));
  const scheduled = (t: number) => at(t, { overlay: { schedule: { shop: { at: '2026-11-25T13:00:00Z' } } } });
  assert.is(new Date(holdsUntilEdge(scheduled)).toISOString(), '2026-11-25T13:00:00.000Z');
});

test('nothing time-bound: kept for maxAgeMs at most', () => {
  const make = (t: number) => at(t, { overlay: { approval: 'manual' } });
  assert.is(holdsUntilEdge(make, CHECK_RECORD_MS), Date.parse(NOW) + CHECK_RECORD_MS);
});

const anchor: AcceptedAnchor = { commit: BUILT_COMMIT, signerFingerprint: 'f'.repeat(40), signerName: 'release-bot', committedAt: BUILT_AT, acceptedAt: BUILT_AT, channelVersion: 1 };

test('an unchanged accept is recorded once per CHECK_RECORD_MS; anything else it changes is recorded at once', () => {
  const t0 = new Date(NOW);
  const s = agentState();
  assert.ok(acceptNeedsRecord(s, anchor, {}, t0), 'the first accept');
  recordAccepted(s, anchor, {}, t0);
  assert.not.ok(acceptNeedsRecord(s, anchor, {}, new Date(t0.getTime() + CHECK_RECORD_MS - 1)));
  assert.ok(acceptNeedsRecord(s, anchor, {}, new Date(t0.getTime() + CHECK_RECORD_MS)));
  assert.ok(acceptNeedsRecord(s, anchor, {}, new Date(t0.getTime() - 1000)), 'a clock behind the record');
  assert.ok(acceptNeedsRecord(s, { ...anchor, commit: 'd'.repeat(40) }, {}, t0), 'a new anchor');
  assert.ok(acceptNeedsRecord(s, anchor, { ['e'.repeat(40)]: { fingerprint: 'f', keyId: 'k', valid: true } }, t0), 'a new signature fact');
  assert.ok(acceptNeedsRecord({ ...s, channel: { ...s.channel, lastRefusal: { tip: 'b'.repeat(40), reason: 'unsigned', message: 'x', at: NOW } } }, anchor, {}, t0), 'a refusal to clear');
});

test.run();
