// DESIGN §4.7, issue 15 point 6: an updater killed at each step, then found by the next one. The
// table is the crash table's idea for the agent's own build: for each step the journal names,
// what the next updater does, whatever the kill left behind.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ResumeAction, UpdateJournal, UpdateStep } from '../../agent/src/core/agent-update.js';
import { ended, foldUpdateOutcome, heartbeatNeedsRecord, MAX_ATTEMPTS, resumeAction } from '../../agent/src/core/agent-update.js';
import type { AgentHeartbeat } from '../../agent/src/core/agent-build.js';
import { emptyAgentBuildState } from '../../agent/src/core/agent-build.js';

const test = suite('agent-update-resume');
const NOW = new Date('2026-11-30T12:00:00Z');

function journal(step: UpdateStep, fields: Partial<UpdateJournal> = {}): UpdateJournal {
  return {
    format: 1,
    id: 'u1',
    from: '0.1.0',
    to: '0.2.0',
    platform: 'linux-x64',
    artifact: { url: 'http://127.0.0.1/duck-0.2.0.tar.gz', sha256: 'a'.repeat(64), size: 10 },
    releaseDigest: 'd'.repeat(64),
    step,
    outcome: 'running',
    reason: '',
    startedAt: '2026-11-30T11:58:00Z',
    switchedAt: step === 'restart' || step === 'health-wait' ? '2026-11-30T11:59:00Z' : null,
    deadline: step === 'restart' || step === 'health-wait' ? '2026-11-30T12:04:00Z' : null,
    updaterPid: 4242,
    attempts: 1,
    ...fields,
  };
}

const cases: Array<{ name: string; journal: UpdateJournal | null; current: string | null; alive?: boolean; expect: ResumeAction['kind'] }> = [
  { name: 'no journal', journal: null, current: '0.1.0', expect: 'none' },
  { name: 'done', journal: journal('done', { outcome: 'applied' }), current: '0.2.0', expect: 'none' },
  { name: 'ended by a failure', journal: journal('self-test', { outcome: 'failed' }), current: '0.1.0', expect: 'none' },
  { name: 'its updater still runs', journal: journal('download'), current: '0.1.0', alive: true, expect: 'busy' },
  { name: 'killed in the download', journal: journal('download'), current: '0.1.0', expect: 'restart' },
  { name: 'killed while staging', journal: journal('stage'), current: '0.1.0', expect: 'restart' },
  { name: 'killed in the self-test', journal: journal('self-test'), current: '0.1.0', expect: 'restart' },
  { name: 'killed before the switch too often', journal: journal('stage', { attempts: MAX_ATTEMPTS }), current: '0.1.0', expect: 'give-up' },
  { name: 'killed in the switch, link not moved', journal: journal('switch'), current: '0.1.0', expect: 'switch' },
  { name: 'killed in the switch, link moved', journal: journal('switch'), current: '0.2.0', expect: 'switch' },
  { name: 'killed in the switch too often', journal: journal('switch', { attempts: MAX_ATTEMPTS }), current: '0.2.0', expect: 'revert' },
  { name: 'killed in the restart', journal: journal('restart'), current: '0.2.0', expect: 'await-health' },
  { name: 'killed in the health wait', journal: journal('health-wait'), current: '0.2.0', expect: 'await-health' },
  { name: 'health wait past its deadline', journal: journal('health-wait', { deadline: '2026-11-30T11:59:30Z' }), current: '0.2.0', expect: 'revert' },
  { name: 'health wait, link not at the new build', journal: journal('health-wait'), current: '0.1.0', expect: 'revert' },
  { name: 'health wait resumed too often', journal: journal('health-wait', { attempts: MAX_ATTEMPTS }), current: '0.2.0', expect: 'revert' },
  { name: 'killed in the revert, link moved back', journal: journal('revert'), current: '0.1.0', expect: 'revert' },
  { name: 'killed in the revert, link not moved back', journal: journal('revert'), current: '0.2.0', expect: 'revert' },
];

for (const c of cases) {
  test(c.name, () => {
    const action = resumeAction(c.journal, { updaterAlive: c.alive ?? false, current: c.current, now: NOW });
    assert.is(action.kind, c.expect, action.reason);
    assert.ok(action.reason.length > 0);
  });
}

const again = (beat: AgentHeartbeat): AgentHeartbeat => beat;

test('every step a journal can name has a row', () => {
  const steps = new Set(cases.flatMap((c) => (c.journal ? [c.journal.step] : [])));
  for (const step of ['download', 'stage', 'self-test', 'switch', 'restart', 'health-wait', 'revert', 'done'] as const) assert.ok(steps.has(step), step);
});

test('a failed update keeps its version off the node once, a later success lifts it', () => {
  const build = emptyAgentBuildState();
  const failed = ended({ ...journal('self-test') }, 'failed', 'self-test of 0.2.0: exit 1', new Date('2026-11-30T12:01:00Z'));
  assert.ok(foldUpdateOutcome(build, failed));
  assert.equal(build.failed['0.2.0'], { version: '0.2.0', at: '2026-11-30T12:01:00.000Z', reason: 'self-test of 0.2.0: exit 1', step: 'self-test', releaseDigest: 'd'.repeat(64) });
  assert.not.ok(foldUpdateOutcome(build, failed), 'the same journal folded twice changes nothing');
  const reverted = ended({ ...journal('revert'), failedStep: 'health-wait' }, 'rolled-back', 'no healthy cycle', new Date('2026-11-30T12:09:00Z'));
  assert.ok(foldUpdateOutcome(build, reverted));
  assert.is(build.failed['0.2.0']?.step, 'health-wait');
  assert.ok(foldUpdateOutcome(build, ended(journal('health-wait'), 'applied', 'healthy', new Date('2026-11-30T13:00:00Z'))));
  assert.equal(build.failed, {});
});

test('a failed download is tried again an hour later (the server or the network, not the build); a build that failed to run is not', () => {
  const build = emptyAgentBuildState();
  assert.ok(foldUpdateOutcome(build, ended(journal('download'), 'failed', 'HTTP 503', new Date('2026-11-30T12:01:00Z'))));
  assert.is(build.failed['0.2.0']?.retryAt, '2026-11-30T13:01:00.000Z');
  assert.ok(foldUpdateOutcome(build, ended(journal('self-test'), 'failed', 'exit 1', new Date('2026-11-30T12:05:00Z'))));
  assert.is(build.failed['0.2.0']?.retryAt, undefined);
});

test('a heartbeat is written for a new process, build or commit, never again for the same one', () => {
  const last = { version: '0.1.0', buildCommit: 'c1', pid: 10, at: '2026-11-30T12:00:00.000Z', channelCommit: 'a'.repeat(40), dockerPingAt: '2026-11-30T12:00:00.000Z' };
  const later = (ms: number) => new Date(Date.parse(last.at) + ms).toISOString();
  assert.ok(heartbeatNeedsRecord(null, last));
  assert.not.ok(heartbeatNeedsRecord(last, again({ ...last, at: later(30_000) })), 'the same daemon 30 s later');
  assert.not.ok(heartbeatNeedsRecord(last, again({ ...last, at: later(3_600_000) })), 'the same daemon an hour later: no write, no docker run at every poll');
  assert.ok(heartbeatNeedsRecord(last, again({ ...last, pid: 11, at: later(1000) })), 'a new process (a restart, a switched build)');
  assert.ok(heartbeatNeedsRecord(last, again({ ...last, version: '0.2.0', at: later(1000) })), 'a new build');
  assert.ok(heartbeatNeedsRecord(last, again({ ...last, channelCommit: 'b'.repeat(40), at: later(1000) })), 'a new accepted commit');
});

test.run();
