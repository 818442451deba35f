// DESIGN §4.3 and §4.11 without Docker: every kind of change, killed before and after each of its
// steps, then recovered as the next start would (recoverChange over the journal the kill left),
// ends where the change meant the app to be, with its data, and with an empty journal. The
// runtime is the scripted engine of test/helpers; the real-engine suite (test/e2e) stays.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyChange, recoverChange } from '../../agent/src/apply/apply-change.js';
import { planBackupNow, planPurge, planRestore, planStartStop } from '../../agent/src/core/act-plans.js';
import type { InstalledApp, JournalEntry } from '../../agent/src/core/agent-state.js';
import type { ChangeKind, PlannedChange } from '../../agent/src/core/change.js';
import { planOrphanStop, planReconfigure, planRepair, planUpgrade } from '../../agent/src/core/plan.js';
import type { StateSnapshot, StateStore } from '../../agent/src/ports.js';
import type { ScriptedEngine } from '../helpers/scripted-engine.js';
import { memoryRelease, memoryStateStore, scriptedEngine, scriptedEnv } from '../helpers/scripted-engine.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';

const COMMIT = 'c'.repeat(40);
const PROJECT = 'duck-shop';
const PRECIOUS = 'precious';

interface Case {
  readonly name: string;
  /** The node before the change: what is installed and how the project runs. */
  readonly installed: Partial<InstalledApp>;
  readonly running: boolean;
  /** The version whose containers exist before the change; the installed one when absent. */
  readonly runningVersion?: string;
  readonly unhealthy?: string[];
  /** Calls of the scripted engine that fail: the run never gets past them, so it is killed only in the rollback. */
  readonly failing?: string[];
  readonly change: () => PlannedChange;
  /** Where the app must end, whatever the kill point. */
  readonly expect: (end: End) => void;
  /** Extra kill points beyond every step's before and after. */
  readonly extraKills?: string[];
}

interface End {
  readonly state: StateSnapshot;
  readonly engine: ScriptedEngine;
  readonly appDir: string;
  readonly last: string | undefined;
  readonly lastReason: string;
  readonly killAt: string | null;
}

const release = (version: string) => memoryRelease('shop', version).content.release;
const installedApp = (extra: Partial<InstalledApp> = {}): InstalledApp => ({
  version: '1.0.0',
  commit: COMMIT,
  since: '2026-11-01T00:00:00Z',
  migrations: 'reversible',
  backupBeforeInstall: null,
  configHash: 'h0',
  ...extra,
});

/** The app runs the version the state records, and that version is the one with containers up. */
function runsRecordedVersion(end: End, allowed: string[]): void {
  const version = end.state.apps.shop?.version;
  assert.ok(version && allowed.includes(version), `recorded ${version}, allowed ${allowed.join(' or ')}`);
  const p = end.engine.project(PROJECT);
  assert.ok(p.running, `${PROJECT} runs`);
  assert.is(p.containers, version, 'the recorded version is the one running');
  assert.ok(p.data.startsWith(PRECIOUS), `data kept: ${p.data}`);
}

/** The moves of a rollback, each with its kill points (apply-change.ts). */
const ROLLBACK_MOVES = ['stop', 'restore', 'switch', 'up', 'health'];

const CASES: Case[] = [
  {
    name: 'upgrade 1.0.0 -> 1.1.0',
    installed: {},
    running: true,
    change: () => planUpgrade(desiredShop('1.0.0', '1.1.0'), release('1.1.0'), installedApp(), COMMIT, 'h1'),
    expect: (end) => {
      runsRecordedVersion(end, ['1.0.0', '1.1.0']);
      assert.ok(['applied', 'rolled-back', 'interrupted'].includes(end.last!), String(end.last));
      // Issue 13: the pre-copy runs while 1.0.0 serves; a kill there stops nothing, and recovery leaves it serving.
      if (end.killAt?.startsWith('preCopy')) {
        assert.is(end.last, 'interrupted');
        assert.not.ok(end.engine.calls.some((c) => /^(stop|create)/.test(c)), `nothing stopped: ${end.engine.calls.join(', ')}`);
      }
      // The create may have stopped 1.0.0 and made 1.1.0's containers: recovery goes back to 1.0.0, compose recreating its own.
      if (end.killAt?.startsWith('create')) {
        assert.is(end.last, 'rolled-back');
        assert.ok(end.engine.calls.includes('up duck-shop 1.0.0'), end.engine.calls.join(', '));
      }
      const order = end.engine.calls.map((c) => c.split(' ')[0]);
      if (end.killAt === null) {
        assert.equal(order.slice(0, 3), ['precopy', 'create', 'backup'], 'the pre-copy comes before the create (which stops 1.0.0), the backup after it');
        // Issue 13: the window holds no compose process start: the engine starts what the create made.
        assert.equal(end.engine.calls.slice(3), ['start duck-shop 1.1.0']);
      }
      // Killed after the switch: the containers 1.1.0's create made are started on recovery, not made again.
      if (end.killAt === 'up:before') assert.ok(end.engine.calls.includes('start duck-shop 1.1.0'), end.engine.calls.join(', '));
    },
  },
  {
    name: 'upgrade to an unhealthy 1.1.0 (rolled back)',
    installed: {},
    running: true,
    unhealthy: ['1.1.0'],
    // Issue 12 §7: a kill anywhere in the rollback leaves 1.1.0 quarantined once recovery finishes it.
    extraKills: ['rollback:before', ...ROLLBACK_MOVES.flatMap((m) => [`rollback-${m}:before`, `rollback-${m}:after`])],
    change: () => planUpgrade(desiredShop('1.0.0', '1.1.0'), release('1.1.0'), installedApp(), COMMIT, 'h1'),
    expect: (end) => {
      runsRecordedVersion(end, ['1.0.0']);
      assert.ok(['rolled-back', 'interrupted'].includes(end.last!), String(end.last));
      // Only the release's own failed health check quarantines it; a rollback a kill forced does not.
      if (/awaitHealth failed/.test(end.lastReason)) assert.is(end.state.failed.shop?.version, '1.1.0', 'a failed version is quarantined');
      else assert.is(end.state.failed.shop, undefined, 'a kill is not the release\'s fault');
      if (end.killAt === null) assert.match(end.lastReason, /awaitHealth failed/);
    },
  },
  ...(['create', 'backup', 'start'] as const).map(
    (call): Case => ({
      name: `upgrade whose ${call} fails (rolled back)`,
      installed: {},
      running: true,
      failing: [call],
      // The moves a rollback makes from there: the new version never ran before a failed start, nor before anything earlier.
      extraKills: ['rollback:before', ...ROLLBACK_MOVES.filter((m) => call === 'start' || !['stop', 'restore'].includes(m)).flatMap((m) => [`rollback-${m}:before`, `rollback-${m}:after`])],
      change: () => planUpgrade(desiredShop('1.0.0', '1.1.0'), release('1.1.0'), installedApp(), COMMIT, 'h1'),
      expect: (end) => {
        runsRecordedVersion(end, ['1.0.0']);
        assert.is(end.last, 'rolled-back');
        assert.is(end.engine.project(PROJECT).data.split('|')[0], PRECIOUS, 'the data is the one 1.0.0 left');
        assert.ok(end.engine.calls.includes('up duck-shop 1.0.0'), `compose brings 1.0.0 back: ${end.engine.calls.join(', ')}`);
        if (end.killAt === null) assert.match(end.lastReason, new RegExp(`^${call === 'start' ? 'up' : call} failed`));
      },
    }),
  ),
  {
    name: 'repair after a failed rollback (1.1.0 left running on its data)',
    installed: { repair: { since: '2026-11-30T11:00:00Z', failedTo: '1.1.0', backupId: 'shop-old', reason: 'the engine did not answer' } },
    running: true,
    runningVersion: '1.1.0',
    change: () =>
      planRepair('shop', installedApp({ repair: { since: '2026-11-30T11:00:00Z', failedTo: '1.1.0', backupId: 'shop-old', reason: 'the engine did not answer' } }), release('1.0.0')),
    expect: (end) => {
      // The repair runs its steps again after a kill; recorded and running agree whatever the kill point.
      const version = end.state.apps.shop?.version;
      assert.is(version, '1.0.0');
      const p = end.engine.project(PROJECT);
      assert.ok(p.running, `${PROJECT} runs`);
      assert.is(p.containers, '1.0.0', 'the recorded version is the one running');
      assert.ok(p.data.startsWith(`${PRECIOUS}-old`), `the data the failed version ran on is replaced by the backup: ${p.data}`);
      assert.is(end.state.apps.shop!.repair, undefined, 'nothing left to repair');
      assert.is(end.last, 'applied');
    },
  },
  {
    name: 'restore of a 0.9.0 backup onto 1.0.0',
    installed: {},
    running: true,
    change: () =>
      planRestore({ id: 'shop-old', app: 'shop', version: '0.9.0', createdAt: '2026-10-01T00:00:00Z', paths: ['data'], volumes: [] }, { version: '1.0.0', commit: COMMIT }, release('0.9.0'), 'h9', COMMIT, true),
    expect: (end) => {
      runsRecordedVersion(end, ['0.9.0', '1.0.0']);
      const restored = end.state.apps.shop!.version === '0.9.0';
      if (restored) assert.is(end.engine.project(PROJECT).data.split('|')[0], `${PRECIOUS}-old`, 'the backup data is back');
      // The pin is part of the change: a restore finished by recovery is pinned as well, or the next poll would undo it.
      assert.is(end.engine.pins.get('shop'), restored ? '0.9.0' : undefined, 'pinned exactly when restored');
    },
  },
  {
    name: 'reconfigure after an overlay edit',
    installed: {},
    running: true,
    change: () => planReconfigure('shop', installedApp(), release('1.0.0'), 'h2', 'the overlay compose overrides changed'),
    expect: (end) => {
      runsRecordedVersion(end, ['1.0.0']);
      assert.is(end.state.apps.shop!.configHash, 'h2');
      assert.is(end.last, 'applied');
    },
  },
  {
    name: 'orphan stop',
    installed: {},
    running: true,
    change: () => planOrphanStop('shop', installedApp(), 'no longer in groups/production.yaml'),
    expect: (end) => {
      assert.not.ok(end.engine.project(PROJECT).running, 'stopped');
      assert.ok(end.state.apps.shop!.orphaned, 'recorded as orphaned');
      assert.is(end.engine.project(PROJECT).data, PRECIOUS, 'containers and data kept');
      assert.is(end.last, 'orphaned');
    },
  },
  {
    name: 'duck stop',
    installed: {},
    running: true,
    change: () => planStartStop('stop', 'shop', installedApp(), release('1.0.0')),
    expect: (end) => {
      assert.not.ok(end.engine.project(PROJECT).running, 'stopped');
      assert.ok(end.state.apps.shop!.stoppedByOperator, 'stays stopped until duck start');
      assert.is(end.last, 'stopped');
    },
  },
  {
    name: 'duck start',
    installed: { stoppedByOperator: true },
    running: false,
    change: () => planStartStop('start', 'shop', installedApp({ stoppedByOperator: true }), release('1.0.0')),
    expect: (end) => {
      runsRecordedVersion(end, ['1.0.0']);
      assert.not.ok(end.state.apps.shop!.stoppedByOperator);
      assert.is(end.last, 'started');
    },
  },
  {
    name: 'duck restart',
    installed: {},
    running: true,
    change: () => planStartStop('restart', 'shop', installedApp(), release('1.0.0')),
    expect: (end) => {
      runsRecordedVersion(end, ['1.0.0']);
      assert.is(end.last, 'started');
    },
  },
  {
    name: 'duck backup (stop, back up, start again)',
    installed: {},
    running: true,
    change: () => planBackupNow('shop', installedApp(), release('1.0.0')),
    expect: (end) => {
      runsRecordedVersion(end, ['1.0.0']);
      assert.is(end.last, 'backup');
      const taken = [...end.engine.backups.values()].filter((b) => b.record.reason === 'duck backup');
      assert.ok(taken.length >= 1 && taken.every((b) => b.data.startsWith(PRECIOUS)), 'a consistent copy was taken');
      const entry = [...end.state.history].reverse().find((h) => h.outcome === 'backup');
      assert.ok(entry?.backupId && end.engine.backups.has(entry.backupId), 'the history names the backup');
    },
  },
  {
    name: 'duck backup of an app the operator stopped (it stays stopped)',
    installed: { stoppedByOperator: true },
    running: false,
    change: () => planBackupNow('shop', installedApp({ stoppedByOperator: true }), release('1.0.0')),
    expect: (end) => {
      assert.not.ok(end.engine.project(PROJECT).running, 'still stopped');
      assert.is(end.last, 'backup');
    },
  },
  {
    name: 'duck purge of an orphan',
    installed: { orphaned: true },
    running: false,
    change: () => planPurge('shop', '1.0.0', COMMIT),
    expect: (end) => {
      assert.is(end.state.apps.shop, undefined, 'forgotten');
      assert.is(end.engine.project(PROJECT).containers, null, 'containers removed');
      assert.not.ok(end.engine.project(PROJECT).volumes, 'volumes removed');
      assert.not.ok(existsSync(end.appDir), 'releases and data removed');
      assert.is(end.last, 'purged');
    },
  },
];

function desiredShop(from: string, to: string) {
  return { app: 'shop', current: from, desired: to, source: 'group' as const, groupVersion: to, pinned: false, decision: 'apply' as const, waitingFor: null, backoff: null, reason: 'inside window', until: null, trigger: 'channel' as const, release: release(to), bucket: null, percent: null };
}

/** Every kill point of a change: before and after each of its steps, and the extra ones. */
function killPoints(c: Case): Array<string | null> {
  const steps = c.change().steps.map((s) => s.kind);
  const points = steps.flatMap((k) => [`${k}:before`, `${k}:after`]);
  // An unhealthy version never gets past its health check; a failing call ends the forward run.
  if (c.failing) return [null, ...(c.extraKills ?? [])];
  const reachable = c.unhealthy ? points.filter((p) => p !== 'awaitHealth:after') : points;
  return [null, ...reachable, ...(c.extraKills ?? [])];
}

const Crash = suite<{ dir: string }>('a change killed at any step and recovered', { dir: '' });
Crash.before(async (ctx) => {
  ctx.dir = await makeTempDir('duck-crash-table-');
});
Crash.after(async (ctx) => {
  await removeTempDir(ctx.dir);
});

let seq = 0;
for (const c of CASES) {
  for (const killAt of killPoints(c)) {
    Crash(`${c.name}, ${killAt ? `killed ${killAt.replace(':', ' ')}` : 'not killed'}: ends where it was meant to, the journal empty`, async (ctx) => {
      const appsDir = `${ctx.dir}/${++seq}`;
      const engine = scriptedEngine();
      for (const v of c.unhealthy ?? []) engine.unhealthy.add(v);
      for (const call of c.failing ?? []) engine.failing.add(call);
      Object.assign(engine.project(PROJECT), { containers: c.runningVersion ?? '1.0.0', running: c.running, data: PRECIOUS, volumes: true });
      engine.backups.set('shop-old', {
        record: { id: 'shop-old', app: 'shop', version: '0.9.0', createdAt: '2026-10-01T00:00:00Z', reason: 'before 0.9.0 -> 1.0.0', bytes: 1, paths: ['data'], volumes: [], absent: [], files: {}, symlinks: {} },
        data: `${PRECIOUS}-old`,
      });
      const state = memoryStateStore((s) => void (s.apps.shop = installedApp(c.installed)));
      const change = c.change();
      await runChange({ engine, state, appsDir, change, killAt });
      const last = [...state.read().history].reverse().find((h) => h.app === 'shop');
      const end: End = { state: state.read(), engine, appDir: `${appsDir}/shop`, last: last?.outcome, lastReason: last?.reason ?? '', killAt };
      assert.equal(end.state.journal, {}, 'the journal is finished');
      c.expect(end);
    });
  }
}

/** Runs the change; with a kill point, the run dies there and a fresh start recovers the journal. */
async function runChange(opts: { engine: ScriptedEngine; state: StateStore; appsDir: string; change: PlannedChange; killAt: string | null }): Promise<void> {
  const { engine, state, appsDir, change, killAt } = opts;
  let killed!: () => void;
  const died = new Promise<'killed'>((resolve) => (killed = () => resolve('killed')));
  const env = scriptedEnv({ engine, state, appsDir, faults: { killAt, failHealthOf: null }, onKill: killed });
  const how = await Promise.race([applyChange(env, change).then(() => 'finished' as const), died]);
  if (killAt === null) {
    assert.is(how, 'finished');
    return;
  }
  assert.is(how, 'killed', `the run should have died at ${killAt}`);
  const journal = state.read().journal.shop;
  assert.ok(journal, 'a killed change leaves its journal');
  assert.is((journal as JournalEntry).kind, change.kind as ChangeKind);
  await recoverChange(scriptedEnv({ engine, state, appsDir }), structuredClone(journal) as JournalEntry);
}

Crash.run();

const Orphan = suite<{ dir: string }>('an upgrade that drops a service', { dir: '' });
Orphan.before(async (ctx) => {
  ctx.dir = await makeTempDir('duck-crash-orphan-');
});
Orphan.after(async (ctx) => {
  await removeTempDir(ctx.dir);
});

Orphan('the old version is stopped before the create, whose --remove-orphans would otherwise kill the dropped service', async (ctx) => {
  const engine = scriptedEngine();
  Object.assign(engine.project(PROJECT), { containers: '1.0.0', running: true, data: PRECIOUS, volumes: true });
  // 1.0.0 ran a worker that 1.1.0 (the scripted release: web alone) no longer has.
  await mkdir(`${ctx.dir}/shop/releases/1.0.0`, { recursive: true });
  await writeFile(`${ctx.dir}/shop/releases/1.0.0/compose.yaml`, 'services:\n  web:\n    image: example/shop:1.0.0\n  worker:\n    image: example/shop-worker:1.0.0\n');
  const state = memoryStateStore((s) => void (s.apps.shop = installedApp()));
  await runChange({ engine, state, appsDir: ctx.dir, change: planUpgrade(desiredShop('1.0.0', '1.1.0'), release('1.1.0'), installedApp(), COMMIT, 'h1'), killAt: null });
  assert.equal(engine.calls.map((c) => c.split(' ').slice(0, 3).join(' ')).slice(1, 3), ['stop duck-shop 1.0.0', 'create duck-shop 1.1.0']);
  assert.is(state.read().apps.shop?.version, '1.1.0');
});

Orphan.run();
