import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AppDesired, DesiredState } from '../../agent/src/core/desired.js';
import { compareVersions, plan } from '../../agent/src/core/plan.js';
import { installedApp } from '../helpers/agent-state.js';

const COMMIT = 'c'.repeat(40);

function desired(apps: Partial<AppDesired>[]): DesiredState {
  return {
    commit: COMMIT,
    apps: apps.map((a) => ({
      app: 'shop',
      current: '1.2.0',
      desired: '1.3.0',
      source: 'group',
      decision: 'apply',
      reason: 'inside window Sat 02:00 UTC',
      until: null,
      trigger: 'channel',
      release: { app: 'shop', version: a.desired ?? '1.3.0', files: {}, backup: { paths: ['data'], volumes: ['db'] }, health: { timeout: '30s' } },
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

test('an upgrade downloads first, then stops, backs up, switches, starts and waits for health', () => {
  const p = plan({ apps: { shop: installedApp('1.2.0') } }, desired([{}]));
  assert.equal(p.steps.map((s) => s.kind), ['writeRelease', 'fetchImages', 'stop', 'backup', 'switchRelease', 'up', 'awaitHealth']);
  assert.ok(p.steps.every((s) => s.reason.length > 10), 'every step has a reason');
  const health = p.steps.at(-1)!;
  assert.is(health.kind === 'awaitHealth' && health.timeoutMs, 30_000);
});

test('an install is the same path from nothing: no stop, no backup', () => {
  const p = plan({ apps: {} }, desired([{ current: null }]));
  assert.equal(p.steps.map((s) => s.kind), ['writeRelease', 'fetchImages', 'switchRelease', 'up', 'awaitHealth']);
});

test('a downgrade keeps the data when the version left has reversible migrations', () => {
  const p = plan({ apps: { shop: installedApp('1.3.0', { backupBeforeInstall: BACKUP }) } }, desired([{ current: '1.3.0', desired: '1.2.0' }]));
  assert.not.ok(p.steps.some((s) => s.kind === 'restoreData'));
});

test('leaving an irreversible version backs up, then restores the backup taken before it was installed', () => {
  const p = plan({ apps: { shop: installedApp('1.3.0', { migrations: 'irreversible', backupBeforeInstall: BACKUP }) } }, desired([{ current: '1.3.0', desired: '1.2.0' }]));
  const kinds = p.steps.map((s) => s.kind);
  assert.equal(kinds, ['writeRelease', 'fetchImages', 'stop', 'backup', 'restoreData', 'switchRelease', 'up', 'awaitHealth']);
  const restore = p.steps.find((s) => s.kind === 'restoreData')!;
  assert.match(restore.reason, new RegExp(BACKUP));
});

test('waits are values with the reason, never steps', () => {
  const p = plan({ apps: {} }, desired([{ decision: 'wait', reason: 'held: freeze', until: '2026-12-31T00:00:00Z' }]));
  assert.equal(p.steps, []);
  assert.equal(p.waits, [{ app: 'shop', reason: 'held: freeze', until: '2026-12-31T00:00:00Z' }]);
});

test('versions compare part by part as numbers', () => {
  assert.ok(compareVersions('1.10.0', '1.9.2') > 0);
  assert.ok(compareVersions('1.2.0', '1.2.0') === 0);
  assert.ok(compareVersions('2.0.0-rc1', '2.0.0-rc2') < 0);
});

test.run();
