import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReleaseFile } from '../../schemas/index.js';
import { planBackupNow, planPurge, planRestore, planStartStop } from '../../agent/src/core/act-plans.js';
import type { InstalledApp } from '../../agent/src/core/agent-state.js';
import type { Plan } from '../../agent/src/core/change.js';
import { planSteps } from '../../agent/src/core/change.js';
import type { AppDesired, DesiredState } from '../../agent/src/core/desired.js';
import { compareVersions, plan } from '../../agent/src/core/plan.js';
import { APPLY_ORDER } from '../../agent/src/core/steps.js';
import { installedApp } from '../helpers/agent-state.js';

const COMMIT = 'c'.repeat(40);
const HASH = 'h'.repeat(64);

const release = (version: string): ReleaseFile => ({ app: 'shop', version, files: {}, backup: { paths: ['data'], volumes: ['db'] }, health: { timeout: '30s' } });

function desired(apps: Partial<AppDesired>[]): DesiredState {
  return {
    commit: COMMIT,
    apps: apps.map((a) => ({
      app: 'shop',
      current: '1.2.0',
      desired: '1.3.0',
      source: 'group',
      groupVersion: a.desired ?? '1.3.0',
      pinned: false,
      decision: 'apply',
      waitingFor: null,
      backoff: null,
      reason: 'inside window Sat 02:00 UTC',
      until: null,
      trigger: 'channel',
      release: release(a.desired ?? '1.3.0'),
      bucket: null,
      percent: null,
      ...a,
    })),
    hold: null,
    approval: 'auto',
    windowsFrom: 'none',
    windows: [],
    nextWindow: null,
    windowOpen: true,
    admit: [],
  };
}

/** The backup taken before the installed version went in: what leaving an irreversible one restores. */
const BACKUP = 'shop-20261101-000000';

const installed = (version: string, extra: Partial<InstalledApp> = {}): InstalledApp => installedApp(version, { backupBeforeInstall: BACKUP, configHash: HASH, ...extra });

function planOf(apps: Record<string, InstalledApp>, d: DesiredState, hash = HASH): Plan {
  const releases = new Map(d.apps.flatMap((a) => (a.desired ? [[`${a.app}@${a.desired}`, release(a.desired)] as const] : [])));
  for (const [app, i] of Object.entries(apps)) releases.set(`${app}@${i.version}`, release(i.version));
  return plan({ observed: { apps }, desired: d, releases, configHashes: Object.fromEntries(d.apps.map((a) => [a.app, hash])) });
}

const kinds = (p: Plan): string[] => planSteps(p).map((s) => s.kind);

test('an upgrade downloads and pre-copies the data first, then creates the new containers (stopping the old), backs up, switches, starts and waits for health', () => {
  const p = planOf({ shop: installed('1.2.0') }, desired([{}]));
  assert.equal(kinds(p), ['writeRelease', 'fetchImages', 'preCopy', 'create', 'backup', 'switchRelease', 'up', 'awaitHealth']);
  assert.is(p.changes[0]!.kind, 'upgrade');
  assert.ok(planSteps(p).every((s) => s.reason.length > 10), 'every step has a reason');
  const health = planSteps(p).at(-1)!;
  assert.is(health.kind === 'awaitHealth' && health.timeoutMs, 30_000);
});

test('the pre-copy copies what the backup after the stop holds, of the version that still serves (issue 13)', () => {
  const steps = planSteps(planOf({ shop: installed('1.2.0') }, desired([{}])));
  const pre = steps.find((s) => s.kind === 'preCopy');
  const backup = steps.find((s) => s.kind === 'backup');
  assert.ok(pre?.kind === 'preCopy' && backup?.kind === 'backup');
  assert.equal([pre.version, pre.paths, pre.volumes], [backup.version, backup.paths, backup.volumes]);
  assert.is(pre.version, '1.2.0');
  assert.match(pre.reason, /while it still serves/);
});

test('the create makes the new version\'s containers and names the version it stops (issue 13)', () => {
  const p = planOf({ shop: installed('1.2.0') }, desired([{}]));
  const create = planSteps(p).find((s) => s.kind === 'create');
  assert.ok(create?.kind === 'create');
  assert.equal([create.version, create.from], [p.changes[0]!.to, '1.2.0']);
  assert.match(create.reason, /without starting them, which stops 1\.2\.0/);
});

test('an install is the same path from nothing: no stop, no backup', () => {
  const p = planOf({}, desired([{ current: null }]));
  assert.equal(kinds(p), ['writeRelease', 'fetchImages', 'switchRelease', 'up', 'awaitHealth']);
});

test('a downgrade keeps the data when the version left has reversible migrations', () => {
  const p = planOf({ shop: installed('1.3.0') }, desired([{ current: '1.3.0', desired: '1.2.0' }]));
  assert.not.ok(planSteps(p).some((s) => s.kind === 'restoreData'));
});

test('leaving an irreversible version backs up, then restores the backup taken before it was installed', () => {
  const p = planOf({ shop: installed('1.3.0', { migrations: 'irreversible' }) }, desired([{ current: '1.3.0', desired: '1.2.0' }]));
  assert.equal(kinds(p), ['writeRelease', 'fetchImages', 'preCopy', 'create', 'backup', 'restoreData', 'switchRelease', 'up', 'awaitHealth']);
  const restore = planSteps(p).find((s) => s.kind === 'restoreData')!;
  assert.match(restore.reason, new RegExp(BACKUP));
});

test('waits are values with the reason, never steps', () => {
  const p = planOf({}, desired([{ decision: 'wait', waitingFor: 'hold', reason: 'held: freeze', until: '2026-12-31T00:00:00Z' }]));
  assert.equal(p.changes, []);
  assert.equal(p.waits, [{ app: 'shop', reason: 'held: freeze', until: '2026-12-31T00:00:00Z', kind: 'hold' }]);
});

test('an app that left the group is stopped once, as a planned change; once orphaned, nothing more', () => {
  const orphan: Partial<AppDesired> = { source: 'installed', decision: 'none', current: '1.2.0', desired: '1.2.0', reason: 'no longer in groups/production.yaml' };
  const p = planOf({ shop: installed('1.2.0') }, desired([orphan]));
  assert.equal(p.changes.map((c) => [c.kind, c.steps.map((s) => s.kind)]), [['orphan', ['stop']]]);
  assert.equal(planOf({ shop: installed('1.2.0', { orphaned: true }) }, desired([orphan])).changes, []);
});

test('a changed overlay compose override plans compose up and a health wait; an unchanged hash plans nothing', () => {
  const same: Partial<AppDesired> = { decision: 'none', current: '1.2.0', desired: '1.2.0' };
  assert.equal(planOf({ shop: installed('1.2.0') }, desired([same])).changes, [], 'a poll that changes nothing plans no Docker call');
  const p = planOf({ shop: installed('1.2.0') }, desired([same]), 'n'.repeat(64));
  assert.equal(p.changes.map((c) => [c.kind, c.steps.map((s) => s.kind), c.configHash]), [['reconfigure', ['up', 'awaitHealth'], 'n'.repeat(64)]]);
  assert.equal(planOf({ shop: installed('1.2.0', { stoppedByOperator: true }) }, desired([same]), 'n'.repeat(64)).changes, [], 'an app the operator stopped stays stopped');
});

test('an orphan back in the group is started again', () => {
  const p = planOf({ shop: installed('1.2.0', { orphaned: true }) }, desired([{ decision: 'none', current: '1.2.0', desired: '1.2.0' }]));
  assert.equal(p.changes.map((c) => c.kind), ['reconfigure']);
  assert.match(p.changes[0]!.reason, /back in the group/);
});

test('operator acts are planned changes: stop, start, restart, backup (start again unless stopped), purge', () => {
  const app = installed('1.2.0');
  const stepsOf = (c: { steps: readonly { kind: string }[] }): string[] => c.steps.map((s) => s.kind);
  assert.equal(stepsOf(planStartStop('stop', 'shop', app, release('1.2.0'))), ['stop']);
  assert.equal(stepsOf(planStartStop('start', 'shop', app, release('1.2.0'))), ['up', 'awaitHealth']);
  assert.equal(stepsOf(planStartStop('restart', 'shop', app, release('1.2.0'))), ['stop', 'up', 'awaitHealth']);
  assert.equal(stepsOf(planBackupNow('shop', app, release('1.2.0'))), ['stop', 'backup', 'up', 'awaitHealth']);
  assert.equal(stepsOf(planBackupNow('shop', installed('1.2.0', { stoppedByOperator: true }), release('1.2.0'))), ['stop', 'backup'], 'a stopped app stays stopped');
  assert.equal(stepsOf(planPurge('shop', '1.2.0', COMMIT)), ['down', 'removeVolumes', 'removeAppFiles']);
  assert.equal(stepsOf(planPurge('shop', null, COMMIT)), ['removeVolumes', 'removeAppFiles'], 'without a version there are no compose files to take down');
});

test('a restore is planned like an upgrade: the data as it is now is backed up before the backup goes back', () => {
  const backup = { id: 'shop-1', app: 'shop', version: '1.1.0', createdAt: '2026-11-02T00:00:00Z', paths: ['data'], volumes: ['db'] };
  const c = planRestore(backup, { version: '1.2.0', commit: COMMIT }, release('1.1.0'), HASH, COMMIT, true);
  assert.equal(c.steps.map((s) => s.kind), ['restoreRelease', 'stop', 'backup', 'restoreData', 'switchRelease', 'up', 'awaitHealth', 'pinVersion']);
  assert.equal([c.kind, c.from, c.to, c.trigger], ['restore', '1.2.0', '1.1.0', 'restore']);
  const onto = planRestore(backup, null, release('1.1.0'), HASH, COMMIT, false);
  assert.equal(onto.steps.map((s) => s.kind), ['restoreRelease', 'restoreData', 'switchRelease', 'up', 'awaitHealth'], 'onto nothing: nothing to stop or keep');
});

test('every planned change runs its steps in APPLY_ORDER', () => {
  const app = installed('1.2.0');
  const changes = [
    ...planOf({ shop: app }, desired([{}])).changes,
    planBackupNow('shop', app, release('1.2.0')),
    planStartStop('restart', 'shop', app, release('1.2.0')),
    planPurge('shop', '1.2.0', COMMIT),
    planRestore({ id: 'b', app: 'shop', version: '1.1.0', createdAt: '', paths: [], volumes: [] }, { version: '1.2.0', commit: COMMIT }, release('1.1.0'), HASH, COMMIT, true),
  ];
  for (const c of changes) {
    const order = c.steps.map((s) => APPLY_ORDER.indexOf(s.kind));
    assert.equal(order, [...order].sort((a, b) => a - b), `${c.kind}: ${c.steps.map((s) => s.kind).join(', ')}`);
  }
});

test('versions compare part by part as numbers', () => {
  assert.ok(compareVersions('1.10.0', '1.9.2') > 0);
  assert.ok(compareVersions('1.2.0', '1.2.0') === 0);
  assert.ok(compareVersions('2.0.0-rc1', '2.0.0-rc2') < 0);
});

test('after a failed rollback the app is repaired toward its recorded version before anything else', () => {
  const repair = { since: '2026-11-30T11:00:00Z', failedTo: '1.3.0', backupId: 'shop-20261130-110000', reason: 'the engine did not answer' };
  const p = planOf({ shop: installed('1.2.0', { repair }) }, desired([{}]));
  assert.is(p.changes.length, 1);
  assert.is(p.changes[0]!.kind, 'repair');
  assert.is(p.changes[0]!.to, '1.2.0');
  assert.equal(kinds(p), ['stop', 'restoreData', 'switchRelease', 'up', 'awaitHealth']);
});

test.run();
