// DESIGN §4.7: the agent's own update decision, one reason per case, with fixed clocks. Pure: the
// real calendar (luxon) evaluates the windows, as the node's does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { GroupFile, OverlayFile, Window } from '../../schemas/index.js';
import type { AgentBuildFailure } from '../../agent/src/core/agent-build.js';
import type { AgentUpdateInput } from '../../agent/src/core/agent-target.js';
import { agentTarget, decideAgentUpdate } from '../../agent/src/core/agent-target.js';
import { appPins } from '../../agent/src/core/overlay-pins.js';
import { CALENDAR } from '../../agent/src/core/windows.js';

const DIGEST = 'd'.repeat(64);
// Monday 2026-11-23 12:00 UTC: outside a Saturday window, inside a daily 11:00–13:00 one.
const NOW = '2026-11-23T12:00:00Z';
const SATURDAY: Window = { days: 'sat', start: '02:00', duration: '3h', timezone: 'UTC' };
const MIDDAY: Window = { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '11:00', duration: '2h', timezone: 'UTC' };

function input(o: Partial<Omit<AgentUpdateInput, 'group'>> & { group?: Partial<GroupFile> } = {}): AgentUpdateInput {
  return {
    running: '0.1.0',
    groupFile: 'groups/production.yaml',
    overlay: {},
    overlayFile: '/etc/duck/overlay.yaml',
    now: new Date(NOW),
    zone: 'UTC',
    calendar: CALENDAR,
    clockRegressed: false,
    failed: {},
    release: { digest: DIGEST },
    ...o,
    group: { apps: {}, agent: { version: '0.2.0' }, ...o.group },
  };
}

function failure(version: string, releaseDigest: string): Record<string, AgentBuildFailure> {
  return { [version]: { version, at: '2026-11-22T03:00:00Z', reason: 'no healthy cycle in 5m', step: 'health-wait', releaseDigest } };
}

test('no agent version in the group or a pin: none, staying on the running build', () => {
  const d = decideAgentUpdate(input({ group: { agent: undefined } }));
  assert.equal(d, { decision: 'none', target: null, reason: 'no agent version in groups/production.yaml (agent: { version }): staying on 0.1.0', until: null });
});

test('already running the version the group asks for: none', () => {
  const d = decideAgentUpdate(input({ running: '0.2.0' }));
  assert.equal([d.decision, d.target, d.reason], ['none', '0.2.0', 'running agent 0.2.0 as groups/production.yaml asks']);
});

test('a pin names the version whatever the group says; running it is none, reaching it applies now, outside the windows', () => {
  const pinned: OverlayFile = { pin: { agent: '0.1.0' }, windows: [SATURDAY] };
  assert.equal([decideAgentUpdate(input({ overlay: pinned })).decision, decideAgentUpdate(input({ overlay: pinned })).reason], [
    'none',
    'running agent 0.1.0 pinned in /etc/duck/overlay.yaml',
  ]);
  const d = decideAgentUpdate(input({ overlay: { pin: { agent: '0.3.0' }, windows: [SATURDAY] } }));
  assert.equal([d.decision, d.target, d.reason], ['apply', '0.3.0', 'pinned to 0.3.0 in /etc/duck/overlay.yaml: agent 0.1.0 -> 0.3.0 now']);
});

test('a hold stops the agent update too, until its end', () => {
  const d = decideAgentUpdate(input({ overlay: { hold: { reason: 'audit week', until: '2026-11-25T00:00:00Z' } } }));
  assert.equal(d, { decision: 'wait', target: '0.2.0', reason: 'held: audit week (until 2026-11-25T00:00:00.000Z); not moving agent 0.1.0 -> 0.2.0', until: '2026-11-25T00:00:00.000Z' });
  const pinnedAndHeld = decideAgentUpdate(input({ overlay: { hold: { reason: 'audit week' }, pin: { agent: '0.3.0' } } }));
  assert.is(pinnedAndHeld.decision, 'wait', 'a hold wins over a pin, as for apps');
  const over = decideAgentUpdate(input({ overlay: { hold: { reason: 'audit week', until: '2026-11-20T00:00:00Z' } } }));
  assert.is(over.decision, 'apply', 'a hold whose end has passed holds nothing');
});

test('approval: manual waits for duck self-update --yes, which applies', () => {
  const manual: OverlayFile = { approval: 'manual' };
  const d = decideAgentUpdate(input({ overlay: manual }));
  assert.equal([d.decision, d.reason], ['wait', 'waiting for approval (approval: manual in /etc/duck/overlay.yaml): run duck self-update --yes to move agent 0.1.0 -> 0.2.0']);
  const yes = decideAgentUpdate(input({ overlay: manual, requested: true }));
  assert.equal([yes.decision, yes.reason], ['apply', 'requested with duck self-update: agent 0.1.0 -> 0.2.0 now']);
});

test('outside the windows in force: waits, saying when the next one opens; inside one: applies', () => {
  const d = decideAgentUpdate(input({ group: { windows: [SATURDAY] } }));
  assert.equal(d, {
    decision: 'wait',
    target: '0.2.0',
    reason: 'waiting for window Sat 02:00 UTC (opens 2026-11-28T02:00:00.000Z) to move agent 0.1.0 -> 0.2.0',
    until: '2026-11-28T02:00:00.000Z',
  });
  const inside = decideAgentUpdate(input({ group: { windows: [SATURDAY] }, overlay: { windows: [MIDDAY] } }));
  assert.equal([inside.decision, inside.reason], ['apply', 'inside window Mon 11:00 UTC: agent 0.1.0 -> 0.2.0'], "the overlay's windows replace the group's");
  const none = decideAgentUpdate(input());
  assert.equal([none.decision, none.reason], ['apply', 'no maintenance windows set: agent 0.1.0 -> 0.2.0 now']);
});

test("a group's urgent flag and rollout are about its apps: the agent still waits for a window", () => {
  const d = decideAgentUpdate(input({ group: { windows: [SATURDAY], urgent: true, rollout: [{ percent: 100, at: '2026-11-01T00:00:00Z' }] } }));
  assert.is(d.decision, 'wait');
});

test('a version that failed here with the same release waits; --retry tries it again', () => {
  const d = decideAgentUpdate(input({ failed: failure('0.2.0', DIGEST) }));
  assert.equal(d, {
    decision: 'wait',
    target: '0.2.0',
    reason:
      'agent 0.2.0 failed on this node at 2026-11-22T03:00:00Z (health-wait: no healthy cycle in 5m); not tried again until agents/0.2.0/agent.yaml changes in the channel, or duck self-update --retry',
    until: null,
  });
  assert.is(decideAgentUpdate(input({ failed: failure('0.2.0', DIGEST), retry: true })).decision, 'apply');
  assert.is(decideAgentUpdate(input({ failed: failure('0.1.5', DIGEST) })).decision, 'apply', 'another version failed: this one is not');
});

test('a version that failed here but was republished (another digest) is eligible again, and says so', () => {
  const d = decideAgentUpdate(input({ failed: failure('0.2.0', 'e'.repeat(64)) }));
  assert.equal([d.decision, d.reason], ['apply', 'no maintenance windows set: agent 0.1.0 -> 0.2.0 now (it failed here at 2026-11-22T03:00:00Z; its release has changed since)']);
});

test('a download that failed waits until its retry time, then is tried again (the server, not the build)', () => {
  const failed = { '0.2.0': { version: '0.2.0', at: '2026-11-23T11:30:00Z', reason: 'HTTP 503', step: 'download', releaseDigest: DIGEST, retryAt: '2026-11-23T12:30:00Z' } };
  const waiting = decideAgentUpdate(input({ failed }));
  assert.equal([waiting.decision, waiting.until], ['wait', '2026-11-23T12:30:00Z']);
  assert.match(waiting.reason, 'could not be downloaded at 2026-11-23T11:30:00Z (HTTP 503); trying again at 2026-11-23T12:30:00Z');
  const due = decideAgentUpdate(input({ failed, now: new Date('2026-11-23T12:30:00Z') }));
  assert.is(due.decision, 'apply');
  assert.match(due.reason, 'its download failed at 2026-11-23T11:30:00Z; trying again');
});

test('a target whose agent.yaml cannot be read waits on the running build, naming why', () => {
  const d = decideAgentUpdate(input({ release: { error: 'agents/0.2.0/agent.yaml: missing' } }));
  assert.equal([d.decision, d.reason], ['wait', 'agent 0.1.0 -> 0.2.0 as groups/production.yaml asks, but its release cannot be used: agents/0.2.0/agent.yaml: missing; staying on 0.1.0']);
});

test('a regressed clock makes no window decision', () => {
  assert.match(decideAgentUpdate(input({ clockRegressed: true })).reason, /^clock-regressed: /);
});

test('pin.agent is the agent: app pins leave it out, agentTarget reads it before the group', () => {
  const overlay: OverlayFile = { pin: { agent: '0.3.0', shop: '1.2.0' } };
  assert.equal(appPins(overlay), { shop: '1.2.0' });
  assert.equal(agentTarget({ apps: {}, agent: { version: '0.2.0' } }, overlay), { version: '0.3.0', source: 'pin' });
  assert.equal(agentTarget({ apps: {}, agent: { version: '0.2.0' } }, {}), { version: '0.2.0', source: 'group' });
});

test.run();
