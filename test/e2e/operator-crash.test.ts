// e2e lane: own compose project, a lane of its own
// DESIGN §4.11: every Docker mutation is a journalled change, the operator's acts and the orphan
// stop and reconfigure a run plans as much as an upgrade. Killed with SIGKILL before or after any
// of its steps, the change is finished by the next writer (`duck run --once`): the app ends where
// the operator meant it, on the version recorded, with its data.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import type { InstalledApp } from '../../agent/src/core/agent-state.js';
import type { StepKind } from '../../agent/src/core/steps.js';
import type { DuckResult } from '../../examples/harness/agent-node.js';
import { freeHostPort, projectContainers } from '../../examples/harness/compose-project.js';
import { projectVolumes, requireDocker, runningContainers, uniqueProjectName } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { startHelloScenario } from '../helpers/hello-channel.js';

await requireDocker();

interface Ctx {
  s: HelloScenario;
  /** The app's version in the group as last published (null: not in it). */
  group: string | null;
  /** `duck backup` of 1.0.0 whose data file LEDGER says so: what the restore cases go back to. */
  restorePoint: string | null;
}

const Crash = suite<Ctx>('SIGKILL during an operator change or a reconfigure (real engine)', {} as Ctx);
const PRECIOUS = 'precious.txt';
const PRECIOUS_TEXT = 'kept through every crash\n';
const LEDGER = 'ledger.txt';
const OLD_LEDGER = 'the data of 1.0.0\n';

type KillPoint = `${StepKind}:${'before' | 'after'}`;

function killPoints(steps: readonly StepKind[]): KillPoint[] {
  return steps.flatMap((step) => [`${step}:before`, `${step}:after`] as const);
}

Crash.before(async (ctx) => {
  try {
    // Its own app name, so its compose project is not another run's on a shared engine; backups
    // are all kept, so the restore point outlives the changes that follow it.
    ctx.s = await startHelloScenario({
      prefix: 'duck-e2e-opcrash-',
      app: uniqueProjectName('hello'),
      releases: { '1.0.0': {}, '1.1.0': {} },
      apply: { keepBackups: 100 },
    });
    ctx.group = null;
    ctx.restorePoint = null;
    await publishGroup(ctx, '1.0.0');
    await runOnce(ctx);
    await writeFile(ctx.s.dataFile(PRECIOUS), PRECIOUS_TEXT);
  } catch (err) {
    console.error('operator-crash setup failed:', err);
    throw err;
  }
});

Crash.after(async (ctx) => {
  await ctx.s?.close();
});

// --- the commands -------------------------------------------------------------------------

async function duck(ctx: Ctx, ...args: string[]): Promise<DuckResult> {
  const r = await ctx.s.node.duck(...args);
  assert.is(r.code, 0, `duck ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r;
}

function runOnce(ctx: Ctx): Promise<DuckResult> {
  return duck(ctx, 'run', '--once');
}

/** The command dies at the kill point as a SIGKILL leaves it (the journal as written). */
async function killedAt(ctx: Ctx, point: KillPoint, ...args: string[]): Promise<void> {
  const r = await ctx.s.node.duckWith({ DUCK_FAULT_KILL_AT: point }, ...args);
  assert.ok(r.code >= 128, `duck ${args[0]} should have killed itself at ${point} (exit ${r.code}): ${r.stdout}${r.stderr}`);
}

/** The next writer finishes what the killed one left in the journal. */
async function recover(ctx: Ctx): Promise<void> {
  await runOnce(ctx);
  assert.equal((await ctx.s.readState()).journal, {}, 'the journal is finished');
}

/** Puts the app in the group at `version` (null: out of it); false when it already was so. */
async function publishGroup(ctx: Ctx, version: string | null): Promise<boolean> {
  if (ctx.group === version) return false;
  ctx.group = version;
  await ctx.s.ch.write('groups/production.yaml', stringify({ apps: version ? { [ctx.s.app]: version } : {} }));
  await ctx.s.ch.commit(version ? `${ctx.s.app} ${version} in the group` : `drop ${ctx.s.app}`, ctx.s.key);
  await ctx.s.ch.publish();
  return true;
}

// --- what is observed ---------------------------------------------------------------------

async function installed(ctx: Ctx): Promise<InstalledApp | undefined> {
  return (await ctx.s.readState()).apps[ctx.s.app];
}

async function backupIds(ctx: Ctx): Promise<string[]> {
  const r = await duck(ctx, 'backups', ctx.s.app, '--json');
  return (r.json!.backups as Array<{ id: string }>).map((b) => b.id);
}

async function history(ctx: Ctx): Promise<Array<{ outcome: string; backupId?: string | null }>> {
  const r = await duck(ctx, 'history', ctx.s.app, '--json', '--limit', '100000');
  return r.json!.history as Array<{ outcome: string; backupId?: string | null }>;
}

/** Runs the version the state records, serves it, with its data. Returns that version. */
async function assertServesRecorded(ctx: Ctx): Promise<string> {
  const app = await installed(ctx);
  assert.ok(app, 'the app is installed');
  assert.is(await ctx.s.served(), app!.version, 'the recorded version is the one serving');
  assert.is(await readFile(ctx.s.dataFile(PRECIOUS), 'utf8'), PRECIOUS_TEXT, 'the data is intact');
  return app!.version;
}

async function assertStoppedWithData(ctx: Ctx): Promise<void> {
  assert.equal(await runningContainers(ctx.s.project), [], 'no container of the app runs');
  assert.ok((await projectContainers(ctx.s.project)).length > 0, 'its containers are kept');
  assert.is(await readFile(ctx.s.dataFile(PRECIOUS), 'utf8'), PRECIOUS_TEXT, 'the data is intact');
}

// --- where each case starts (the cases chain on one node, so each puts the app where it needs it)

async function arrangeRunning(ctx: Ctx): Promise<void> {
  if ((await installed(ctx))?.stoppedByOperator) await duck(ctx, 'start', ctx.s.app);
}

async function arrangeStopped(ctx: Ctx): Promise<void> {
  if (!(await installed(ctx))?.stoppedByOperator) await duck(ctx, 'stop', ctx.s.app);
}

/** The app follows the group again at `version`, running, not pinned (a finished restore pins). */
async function arrangeInGroup(ctx: Ctx, version: string): Promise<void> {
  const pinned = /^pin:/m.test(await readFile(ctx.s.node.overlayFile, 'utf8'));
  if (pinned) await ctx.s.writeOverlay();
  const published = await publishGroup(ctx, version);
  const app = await installed(ctx);
  if (pinned || published || app?.version !== version || app.orphaned) await runOnce(ctx);
  await arrangeRunning(ctx);
  assert.is((await installed(ctx))?.version, version);
}

/** A backup of 1.0.0 holding OLD_LEDGER, then the app on 1.1.0: a restore is a version change. */
async function arrangeRestorePoint(ctx: Ctx): Promise<string> {
  if (ctx.restorePoint === null) {
    await arrangeInGroup(ctx, '1.0.0');
    await writeFile(ctx.s.dataFile(LEDGER), OLD_LEDGER);
    const made = await duck(ctx, 'backup', ctx.s.app, '--json');
    ctx.restorePoint = (made.json!.backup as { id: string }).id;
  }
  await arrangeInGroup(ctx, '1.1.0');
  return ctx.restorePoint;
}

/** Installed, then dropped from the group: stopped and recorded orphaned. */
async function arrangeOrphaned(ctx: Ctx): Promise<void> {
  if ((await installed(ctx))?.orphaned) return;
  if (!(await installed(ctx))) await arrangeInGroup(ctx, '1.1.0');
  await publishGroup(ctx, null);
  await runOnce(ctx);
  assert.ok((await installed(ctx))?.orphaned);
}

// --- the cases ----------------------------------------------------------------------------

for (const point of killPoints(['stop', 'backup', 'up', 'awaitHealth'])) {
  Crash(`duck backup killed at ${point}: after the next run the app runs again, with the backup made and in the history`, async (ctx) => {
    await arrangeRunning(ctx);
    const before = (await ctx.s.readState()).history.filter((h) => h.app === ctx.s.app && h.outcome === 'backup');
    await killedAt(ctx, point, 'backup', ctx.s.app);
    await recover(ctx);
    await assertServesRecorded(ctx);
    const entries = (await history(ctx)).filter((h) => h.outcome === 'backup');
    assert.is(entries.length, before.length + 1, 'one more backup entry in the history');
    const made = entries.at(-1)!.backupId;
    assert.ok(made && !before.some((h) => h.backupId === made), `a new backup: ${made}`);
    assert.ok((await backupIds(ctx)).includes(made!), `duck backups lists ${made}`);
  });
}

// The run that recovers is also a cycle: it is what would start a stopped app if anything did.
for (const point of killPoints(['stop'])) {
  Crash(`duck stop killed at ${point}: after the next run the app is stopped and stays stopped`, async (ctx) => {
    await arrangeRunning(ctx);
    await killedAt(ctx, point, 'stop', ctx.s.app);
    await recover(ctx);
    await assertStoppedWithData(ctx);
    assert.ok((await installed(ctx))?.stoppedByOperator, 'recorded as stopped by the operator');
  });
}

for (const point of killPoints(['up', 'awaitHealth'])) {
  Crash(`duck start killed at ${point}: after the next run the app runs again`, async (ctx) => {
    await arrangeStopped(ctx);
    await killedAt(ctx, point, 'start', ctx.s.app);
    await recover(ctx);
    await assertServesRecorded(ctx);
    assert.not.ok((await installed(ctx))?.stoppedByOperator, 'no longer recorded as stopped');
  });
}

for (const point of killPoints(['stop', 'up', 'awaitHealth'])) {
  Crash(`duck restart killed at ${point}: after the next run the app runs again`, async (ctx) => {
    await arrangeRunning(ctx);
    await killedAt(ctx, point, 'restart', ctx.s.app);
    await recover(ctx);
    await assertServesRecorded(ctx);
    assert.not.ok((await installed(ctx))?.stoppedByOperator, 'not recorded as stopped');
  });
}

for (const point of killPoints(['up', 'awaitHealth'])) {
  Crash(`a reconfigure killed at ${point}: after the next run the app runs healthy with the new overrides`, async (ctx) => {
    await arrangeRunning(ctx);
    const hashBefore = (await installed(ctx))!.configHash;
    // HELLO_PORT is interpolated by the hello compose file: the new overrides show on the engine.
    await ctx.s.writeOverlay('', { port: await freeHostPort() });
    await killedAt(ctx, point, 'run', '--once');
    await recover(ctx);
    await assertServesRecorded(ctx);
    assert.is.not((await installed(ctx))!.configHash, hashBefore, 'the new configuration is recorded');
    const ps = await duck(ctx, 'ps', ctx.s.app, '--json');
    const services = ps.json!.services as Array<{ service: string; state: string; health: string }>;
    assert.equal(services.map((x) => [x.service, x.state, x.health]), [['web', 'running', 'healthy']]);
  });
}

// A kill after the switch is carried through by the recovery, pin included (the pin is the
// restore's last journalled step): the next poll must not move the app back to the channel's version.
for (const point of killPoints(['restoreRelease', 'stop', 'backup', 'restoreData', 'switchRelease', 'up', 'awaitHealth', 'pinVersion'])) {
  Crash(`duck restore killed at ${point}: after the next run the app serves the old version with its data, or stays on the restored one with the backup's`, async (ctx) => {
    const id = await arrangeRestorePoint(ctx);
    const newLedger = `the data of 1.1.0 before the restore killed at ${point}\n`;
    await writeFile(ctx.s.dataFile(LEDGER), newLedger);
    await killedAt(ctx, point, 'restore', id, '--confirm', ctx.s.app);
    await recover(ctx);
    const version = await assertServesRecorded(ctx);
    const restore = (await ctx.s.readState()).history.findLast((h) => h.app === ctx.s.app && h.trigger === 'restore');
    if (restore?.outcome === 'applied') assert.is(version, '1.0.0', 'the recovery carried the restore through: the app stays on the restored version');
    assert.ok(['1.0.0', '1.1.0'].includes(version), version);
    const expected = version === '1.0.0' ? OLD_LEDGER : newLedger;
    assert.is(await readFile(ctx.s.dataFile(LEDGER), 'utf8'), expected, `the data belongs with ${version}, the version serving`);
  });
}

for (const point of killPoints(['stop'])) {
  Crash(`an orphan stop killed at ${point}: after the next run the app is stopped and recorded orphaned, its containers and data kept`, async (ctx) => {
    await arrangeInGroup(ctx, '1.1.0');
    const before = (await ctx.s.readState()).history.filter((h) => h.app === ctx.s.app && h.outcome === 'orphaned').length;
    await publishGroup(ctx, null);
    await killedAt(ctx, point, 'run', '--once');
    await recover(ctx);
    await assertStoppedWithData(ctx);
    assert.ok((await installed(ctx))?.orphaned, 'recorded as orphaned');
    assert.is((await history(ctx)).filter((h) => h.outcome === 'orphaned').length, before + 1, 'one orphaned entry in the history');
  });
}

for (const point of killPoints(['down', 'removeVolumes', 'removeAppFiles'])) {
  Crash(`duck purge killed at ${point}: after the next run the app, its containers, volumes and files are gone; its backups stay`, async (ctx) => {
    await arrangeOrphaned(ctx);
    const backups = await backupIds(ctx);
    await killedAt(ctx, point, 'purge', ctx.s.app, '--confirm', ctx.s.app);
    await recover(ctx);
    assert.is(await installed(ctx), undefined, 'gone from the state');
    assert.equal(await projectContainers(ctx.s.project), [], 'no container is left');
    assert.equal(await projectVolumes(ctx.s.project), [], 'no named volume is left');
    assert.not.ok(existsSync(join(ctx.s.node.stateDir, 'apps', ctx.s.app)), 'its directory is gone');
    assert.equal(await backupIds(ctx), backups, 'its backups are kept');
  });
}

Crash.run();
