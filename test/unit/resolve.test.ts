// DESIGN §4.1–4.2 rules, each as its own case, with fixed clocks and a fixed agent id.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { GroupFile, OverlayFile, ReleaseFile } from '../../schemas/index.js';
import type { NodeFacts, ResolveInput } from '../../agent/src/core/desired.js';
import { decisionsValidUntil, needsCalendar, resolve } from '../../agent/src/core/resolve.js';
import type { Calendar } from '../../agent/src/core/window-spec.js';
import { CALENDAR } from '../../agent/src/core/windows.js';
import { rolloutBucket } from '../../agent/src/core/rollout.js';
import { releaseDigest } from '../../agent/src/core/config-hash.js';
import { agentState, failedVersion, installedApp } from '../helpers/agent-state.js';

const AGENT = 'agent-7d0c';
const COMMIT = 'c'.repeat(40);

function release(version: string, extra: Partial<ReleaseFile> = {}): ReleaseFile {
  return { app: 'shop', version, files: { 'compose.yaml': 'a'.repeat(64) }, ...extra };
}

function input(o: {
  group?: Partial<GroupFile>;
  overlay?: OverlayFile;
  now?: string;
  node?: Partial<NodeFacts>;
  upgradeNow?: ResolveInput['upgradeNow'];
  clockRegressed?: boolean;
  zone?: string;
}): ResolveInput {
  const releases = new Map([['1.2.0', release('1.2.0')], ['1.3.0', release('1.3.0')]].map(([v, r]) => [`shop@${v as string}`, r as ReleaseFile]));
  return {
    commit: COMMIT,
    group: { apps: { shop: '1.3.0' }, ...o.group },
    groupFile: 'groups/production.yaml',
    releases,
    releaseErrors: new Map(),
    overlay: o.overlay ?? {},
    overlayFile: '/etc/duck/overlay.yaml',
    now: new Date(o.now ?? '2026-11-23T12:00:00Z'),
    clockRegressed: o.clockRegressed ?? false,
    agentId: AGENT,
    zone: o.zone ?? 'UTC',
    calendar: CALENDAR,
    node: agentState({ apps: { shop: installedApp('1.2.0') }, ...o.node }),
    upgradeNow: o.upgradeNow ?? new Set(),
  };
}

const shop = (i: ResolveInput) => resolve(i).apps.find((a) => a.app === 'shop')!;
// Saturday 2026-11-28 02:00 in Shanghai is Friday 18:00 UTC.
const SHANGHAI = [{ days: ['sat', 'sun'] as ['sat', 'sun'], start: '02:00', duration: '3h', timezone: 'Asia/Shanghai' }];

test('applies at once what the group asks when no windows, rollout or overlay stand in the way', () => {
  const a = shop(input({}));
  assert.is(a.decision, 'apply');
  assert.is(a.desired, '1.3.0');
  assert.is(a.trigger, 'channel');
  assert.ok(a.release);
});

test('nothing to do when the node runs what the group asks', () => {
  const a = shop(input({ node: { apps: { shop: installedApp('1.3.0') } } }));
  assert.is(a.decision, 'none');
  assert.match(a.reason, /running 1\.3\.0 as groups\/production\.yaml asks/);
});

test('outside a window the change waits, naming the window', () => {
  const a = shop(input({ group: { windows: SHANGHAI }, now: '2026-11-25T12:00:00Z' }));
  assert.is(a.decision, 'wait');
  assert.match(a.reason, /waiting for window Sat 02:00 Asia\/Shanghai/);
  assert.ok(a.until && Date.parse(a.until) >= Date.parse('2026-11-27T18:00:00Z'));
});

test('inside a window, after this node\'s spread turn, the change applies', () => {
  const a = shop(input({ group: { windows: SHANGHAI }, now: '2026-11-27T19:00:00Z' }));
  assert.is(a.decision, 'apply');
  assert.match(a.reason, /inside window Sat 02:00 Asia\/Shanghai/);
});

test('nodes spread their start over the first quarter of the window by bucket', () => {
  const bucket = rolloutBucket(AGENT, 'shop', '1.3.0');
  const turn = Date.parse('2026-11-27T18:00:00Z') + Math.floor((bucket / 100) * 3 * 3_600_000 * 0.25);
  const before = shop(input({ group: { windows: SHANGHAI }, now: new Date(turn - 1000).toISOString() }));
  const after = shop(input({ group: { windows: SHANGHAI }, now: new Date(turn + 1000).toISOString() }));
  assert.ok(bucket > 10, 'this agent id lands past the start of the window');
  assert.is(before.decision, 'wait');
  assert.match(before.reason, /this node's turn/);
  assert.is(after.decision, 'apply');
});

test('a window that crosses midnight still counts on the next day', () => {
  const windows = [{ days: ['fri'] as ['fri'], start: '23:00', duration: '2h', timezone: 'Europe/Berlin' }];
  // Saturday 00:59 in Berlin (UTC+1 in November) is 23:59 UTC Friday: past every bucket's turn.
  const a = shop(input({ group: { windows }, now: '2026-11-27T23:59:00Z' }));
  assert.is(a.decision, 'apply');
  assert.match(a.reason, /Fri 23:00 Europe\/Berlin/);
});

test('the overlay windows replace the group windows', () => {
  const overlay: OverlayFile = { windows: [{ days: ['mon-fri'], start: '23:00', duration: '4h' }] };
  const d = resolve(input({ group: { windows: SHANGHAI }, overlay, now: '2026-11-25T12:00:00Z' }));
  assert.is(d.windowsFrom, 'overlay');
  assert.match(d.apps[0]!.reason, /23:00 UTC/);
});

test('urgent releases skip windows', () => {
  const a = shop(input({ group: { windows: SHANGHAI, urgent: true }, now: '2026-11-25T12:00:00Z' }));
  assert.is(a.decision, 'apply');
  assert.is(a.trigger, 'urgent');
});

test('urgent releases never skip a hold', () => {
  const a = shop(input({ group: { urgent: true }, overlay: { hold: { reason: 'quarter-end freeze' } } }));
  assert.is(a.decision, 'wait');
  assert.match(a.reason, /^held: quarter-end freeze/);
});

test('a hold with until in the past is over', () => {
  const d = resolve(input({ overlay: { hold: { reason: 'freeze', until: '2026-11-01' } } }));
  assert.is(d.hold, null);
  assert.is(d.apps[0]!.decision, 'apply');
});

test('a hold until a date lasts through that day in the node zone', () => {
  const overlay: OverlayFile = { hold: { reason: 'freeze', until: '2026-11-23' } };
  const a = shop(input({ overlay, zone: 'Asia/Shanghai', now: '2026-11-23T15:00:00Z' }));
  assert.is(a.decision, 'wait');
  assert.is(a.until, '2026-11-23T16:00:00.000Z');
});

test('a pin to a version the channel does not have is refused and the node stays where it is', () => {
  const a = shop(input({ overlay: { pin: { shop: '9.9.9' } } }));
  assert.is(a.decision, 'wait');
  assert.is(a.desired, '1.2.0');
  assert.match(a.reason, /pin shop 9\.9\.9 in \/etc\/duck\/overlay\.yaml refused: .*staying on 1\.2\.0/);
});

test('a pin is an operator act: it applies outside windows and whatever the group says', () => {
  const a = shop(input({ group: { windows: SHANGHAI }, overlay: { pin: { shop: '1.2.0' } }, node: { apps: { shop: installedApp('1.3.0') } }, now: '2026-11-25T12:00:00Z' }));
  assert.is(a.decision, 'apply');
  assert.is(a.trigger, 'pin');
  assert.is(a.desired, '1.2.0');
});

test('approval manual makes changes wait for duck upgrade', () => {
  const a = shop(input({ overlay: { approval: 'manual' } }));
  assert.is(a.decision, 'wait');
  assert.match(a.reason, /waiting for approval .* run duck upgrade/);
  assert.is(shop(input({ overlay: { approval: 'manual' }, upgradeNow: new Set(['shop']) })).trigger, 'upgrade');
});

test('a schedule waits until its time, then applies whatever the windows say, once', () => {
  const overlay: OverlayFile = { schedule: { shop: { at: '2026-11-25T02:00:00+08:00' } } };
  const before = shop(input({ overlay, group: { windows: SHANGHAI }, now: '2026-11-24T17:00:00Z' }));
  assert.is(before.decision, 'wait');
  assert.is(before.until, '2026-11-24T18:00:00.000Z');
  const after = shop(input({ overlay, group: { windows: SHANGHAI }, now: '2026-11-24T18:00:01Z' }));
  assert.is(after.decision, 'apply');
  assert.is(after.trigger, 'schedule');
  const done = shop(input({ overlay, now: '2026-11-24T18:00:01Z', node: { schedulesDone: { shop: '2026-11-25T02:00:00+08:00' } } }));
  assert.is(done.trigger, 'channel');
});

test('a node outside the rollout waits, naming its bucket and the percent', () => {
  const bucket = rolloutBucket(AGENT, 'shop', '1.3.0');
  const rollout = [{ percent: Math.floor(bucket), at: '2026-11-23T00:00:00Z' }, { percent: 100, at: '2026-11-26T00:00:00Z' }];
  const a = shop(input({ group: { rollout } }));
  assert.is(a.decision, 'wait');
  assert.match(a.reason, new RegExp(`in rollout bucket ${bucket.toFixed(1).replace('.', '\\.')}, now at ${Math.floor(bucket)}%`));
  assert.is(a.until, '2026-11-26T00:00:00.000Z');
});

test('a node in the rollout is admitted, and stays in when the percent is lowered', () => {
  const bucket = rolloutBucket(AGENT, 'shop', '1.3.0');
  const high = [{ percent: Math.ceil(bucket) + 1, at: '2026-11-23T00:00:00Z' }];
  const d = resolve(input({ group: { rollout: high, windows: SHANGHAI }, now: '2026-11-25T12:00:00Z' }));
  assert.equal(d.admit, ['shop@1.3.0']);
  assert.is(d.apps[0]!.decision, 'wait', 'admitted but waiting for the window');
  const lowered = [{ percent: 0, at: '2026-11-23T00:00:00Z' }];
  const a = shop(input({ group: { rollout: lowered }, node: { admitted: { 'shop@1.3.0': '2026-11-25T12:00:00Z' } } }));
  assert.is(a.decision, 'apply');
});

test('a version that failed here is not retried until the channel moves or an operator acts', () => {
  const failed = { shop: failedVersion('1.3.0', { commit: COMMIT, reason: 'health check timed out' }) };
  const a = shop(input({ node: { failed } }));
  assert.is(a.decision, 'wait');
  assert.match(a.reason, /failed on this node .* not retried/);
  const moved = shop(input({ node: { failed: { shop: { ...failed.shop, commit: 'd'.repeat(40) } } } }));
  assert.is(moved.decision, 'apply');
  assert.is(shop(input({ node: { failed }, upgradeNow: 'all' })).decision, 'apply');
});

test('a failed release is tried again when its content changes, not on an unrelated commit', () => {
  const digest = releaseDigest(release('1.3.0'));
  const failed = { shop: failedVersion('1.3.0', { commit: 'd'.repeat(40), releaseDigest: digest, attempts: 1 }) };
  const unrelated = shop(input({ node: { failed } }));
  assert.is(unrelated.decision, 'wait', 'another commit carrying the same release does not retry it');
  assert.match(unrelated.reason, /1 of 1 attempt/);
  const changed = shop(input({ node: { failed: { shop: { ...failed.shop, releaseDigest: 'e'.repeat(64) } } } }));
  assert.is(changed.decision, 'apply');
});

test("a release's own retries: N allows N more attempts, then it waits", () => {
  const retrying = { ...release('1.3.0'), retries: 2 };
  const releases = new Map([['shop@1.3.0', retrying]]);
  const failedAfter = (attempts: number) => ({ shop: failedVersion('1.3.0', { commit: COMMIT, releaseDigest: releaseDigest(retrying), attempts }) });
  assert.is(shop({ ...input({ node: { failed: failedAfter(2) } }), releases }).decision, 'apply');
  const spent = shop({ ...input({ node: { failed: failedAfter(3) } }), releases });
  assert.is(spent.decision, 'wait');
  assert.match(spent.reason, /3 of 3 attempt/);
});

test('an app the operator stopped is not moved by the channel, only by duck upgrade', () => {
  const node = { apps: { shop: installedApp('1.2.0', { stoppedByOperator: true }) } };
  const a = shop(input({ node }));
  assert.is(a.decision, 'wait');
  assert.match(a.reason, /stopped by the operator/);
  assert.is(shop(input({ node, upgradeNow: 'all' })).decision, 'apply');
});

test('with the clock gone back, no time-based decision is made', () => {
  const a = shop(input({ clockRegressed: true }));
  assert.is(a.decision, 'wait');
  assert.match(a.reason, /^clock-regressed/);
});

test('an app dropped from the group is left as it is, reported orphaned', () => {
  const d = resolve(input({ group: { apps: {} } }));
  assert.is(d.apps[0]!.decision, 'none');
  assert.match(d.apps[0]!.reason, /orphaned/);
});

test('an app the node does not run yet is installed as an upgrade from nothing', () => {
  const a = shop(input({ node: { apps: {} } }));
  assert.is(a.decision, 'apply');
  assert.is(a.current, null);
});

// Issue 12 §11: every wait says what it waits for, and each app the group's version and the pin.
test('each wait names its kind: window, rollout, hold, approval, schedule, stopped, failed, clock, release', () => {
  const bucket = rolloutBucket(AGENT, 'shop', '1.3.0');
  const failed = { shop: failedVersion('1.3.0', { commit: COMMIT }) };
  const cases: Array<[string, ResolveInput]> = [
    ['window', input({ group: { windows: SHANGHAI }, now: '2026-11-25T12:00:00Z' })],
    ['rollout', input({ group: { rollout: [{ percent: Math.floor(bucket), at: '2026-11-23T00:00:00Z' }] } })],
    ['hold', input({ overlay: { hold: { reason: 'freeze' } } })],
    ['approval', input({ overlay: { approval: 'manual' } })],
    ['schedule', input({ overlay: { schedule: { shop: { at: '2026-12-01T00:00:00Z' } } } })],
    ['stopped', input({ node: { apps: { shop: installedApp('1.2.0', { stoppedByOperator: true }) } } })],
    ['failed', input({ node: { failed } })],
    ['clock', input({ clockRegressed: true })],
    ['release', input({ overlay: { pin: { shop: '9.9.9' } } })],
  ];
  for (const [kind, i] of cases) {
    const a = shop(i);
    assert.is(a.decision, 'wait', kind);
    assert.is(a.waitingFor, kind, a.reason);
  }
  assert.is(shop(input({})).waitingFor, null, 'a change to make waits for nothing');
});

test("each app carries the group's version and whether the operator pinned it", () => {
  const pinned = shop(input({ overlay: { pin: { shop: '1.2.0' } } }));
  assert.is(pinned.groupVersion, '1.3.0');
  assert.is(pinned.pinned, true);
  assert.is(pinned.desired, '1.2.0');
  const follows = shop(input({}));
  assert.is(follows.groupVersion, '1.3.0');
  assert.is(follows.pinned, false);
  assert.is(resolve(input({ group: { apps: {} } })).apps[0]!.groupVersion, null, 'an orphan is not in the group');
});

test('an app stopped with duck stop at its desired version is said to be stopped, not running', () => {
  const a = shop(input({ node: { apps: { shop: installedApp('1.3.0', { stoppedByOperator: true }) } } }));
  assert.is(a.decision, 'none');
  assert.match(a.reason, /stopped by the operator \(duck stop\).*duck start shop/);
  assert.not.match(a.reason, /running/);
});

// The node loads luxon (windows.ts) and asks for its zone only when needsCalendar says so: resolve()
// must then never reach for the calendar or the zone.
test('needsCalendar sees every window and hold end resolve reads; without them resolve reads neither calendar nor zone', () => {
  const window = SHANGHAI;
  const cases: Array<{ name: string; group?: Partial<GroupFile>; overlay?: OverlayFile; needs: boolean }> = [
    { name: 'nothing', needs: false },
    { name: 'group windows', group: { windows: window }, needs: true },
    { name: 'overlay windows', overlay: { windows: window }, needs: true },
    { name: "the overlay's empty list replaces the group's", group: { windows: window }, overlay: { windows: [] }, needs: false },
    { name: 'a hold without end', overlay: { hold: { reason: 'freeze' } }, needs: false },
    { name: 'a hold until a date', overlay: { hold: { reason: 'freeze', until: '2026-12-01' } }, needs: true },
    { name: 'rollout and urgent', group: { urgent: true, rollout: [{ percent: 50, at: '2026-11-20T00:00:00Z' }] }, needs: false },
  ];
  const refuse = (what: string): never => {
    throw new Error(`${what} was read`);
  };
  const refusing: Calendar = { windowState: () => refuse('windowState'), holdEnd: () => refuse('holdEnd') };
  for (const c of cases) {
    const i = input({ ...(c.group ? { group: c.group } : {}), ...(c.overlay ? { overlay: c.overlay } : {}) });
    assert.is(needsCalendar(i.group, i.overlay), c.needs, c.name);
    if (c.needs) continue;
    const blind: ResolveInput = {
      ...i,
      calendar: refusing,
      get zone(): string {
        return refuse(`${c.name}: the zone`);
      },
    };
    decisionsValidUntil(blind, resolve(blind), 60_000);
  }
});


test("the overlay's pin.agent pins the agent's own build, never an app named agent", () => {
  const d = resolve(input({ overlay: { pin: { agent: '0.2.0', shop: '1.2.0' } } }));
  assert.equal(
    d.apps.map((a) => [a.app, a.desired, a.source]),
    [['shop', '1.2.0', 'pin']],
  );
});

test.run();
