import { randomUUID } from 'node:crypto';
import type { DuckError } from '../../../schemas/errors.js';
import { toDuckError } from '../../../schemas/errors.js';
import type { JournalEntry } from '../core/agent-state.js';
import type { PlannedChange } from '../core/change.js';
import { CHANGE_RULES } from '../core/change.js';
import type { ChangeEnd } from '../core/change-outcome.js';
import { recordChangeEnd } from '../core/change-outcome.js';
import type { ChangeSummary } from '../core/operator-request.js';
import { isEngineUnreachable } from '../core/engine-fault.js';
import { healthTimeoutMs } from '../core/plan.js';
import type { Step, StepKind } from '../core/steps.js';
import { STOPPING_STEPS } from '../core/steps.js';
import type { ApplyEnv } from './apply-env.js';
import { appLayout, switchCurrent } from './app-layout.js';
import type { ApplyContext } from './executors.js';
import { waitOutEngine } from './engine-wait.js';
import { backupStepOf, checkReadyToStop, EXECUTORS, makeContext } from './executors.js';
import { runsHealthy } from './observe.js';
import { pruneReleases } from './release-retention.js';

/** How one app's change ended: the same shape an operator's request reports. */
export type ChangeResult = ChangeSummary;

/**
 * DESIGN §4.3 and §4.11: one app's change, journalled step by step before each step runs. A
 * change that switches versions rolls back on a failure after the stop; any other change runs its
 * settling steps (CHANGE_RULES) so the app ends as the operator meant it.
 */
export async function applyChange(env: ApplyEnv, change: PlannedChange): Promise<ChangeResult> {
  const journal: JournalEntry = {
    id: randomUUID(),
    kind: change.kind,
    app: change.app,
    from: change.from,
    to: change.to,
    commit: change.commit,
    trigger: change.trigger,
    reason: change.reason,
    startedAt: env.clock().toISOString(),
    steps: [...change.steps],
    running: -1,
    runningDone: true,
    phase: 'forward',
    backupId: null,
    failure: null,
    configHash: change.configHash,
    ...(change.releaseDigest ? { releaseDigest: change.releaseDigest } : {}),
    migrations: change.migrations,
  };
  await saveJournal(env, journal);
  // The steps' kinds: what a waiting operator's progress counts against (core/request-progress).
  env.log('change', { app: journal.app, kind: change.kind, from: journal.from, to: journal.to, trigger: journal.trigger, reason: journal.reason, steps: journal.steps.map((s) => s.kind) });
  if (change.kind === 'repair') return runRepair(env, journal);
  return CHANGE_RULES[change.kind].switches ? runSwitch(env, journal, 0) : runInPlace(env, journal, 0);
}

/** After a restart: bring an app with a journal to where its change meant it to be (DESIGN §4.3). */
export async function recoverChange(env: ApplyEnv, journal: JournalEntry): Promise<ChangeResult> {
  const kind = journal.kind ?? 'upgrade';
  const at = journal.steps[journal.running]?.kind ?? null;
  env.log('recover', { app: journal.app, kind, phase: journal.phase, step: at, done: journal.runningDone });
  const interrupted = `the agent stopped during ${at ?? 'the start'} of ${journal.from ?? 'install'} -> ${journal.to ?? 'removal'}`;
  // The step that was running may not have finished: it runs again (every executor may run twice).
  const resumeAt = journal.runningDone ? journal.running + 1 : Math.max(journal.running, 0);
  if (!CHANGE_RULES[kind].switches) {
    if (journal.phase === 'settle') return runSettle(env, journal, journal.failure ?? interrupted, resumeAt, journal.failureCode);
    return runInPlace(env, journal, resumeAt);
  }
  // The quarantine and the failure's code were journalled before the rollback began: a kill anywhere in it keeps them.
  if (journal.phase === 'rollback') return rollback(env, journal, journal.failure ?? interrupted, journal.quarantine ?? false, journal.failureCode);
  const switched = indexOf(journal, 'switchRelease');
  if (journal.running > switched || (journal.running === switched && journal.runningDone)) {
    return runSwitch(env, journal, indexOf(journal, 'up'));
  }
  const stopping = stoppingIndex(journal);
  if (stopping >= 0 && journal.running >= stopping) return rollback(env, journal, interrupted, false, undefined);
  // Nothing was stopped: the old version runs untouched; the next reconcile starts over.
  return finish(env, journal, { outcome: 'interrupted', reason: `${interrupted}; nothing had been stopped`, quarantine: false });
}

async function runSwitch(env: ApplyEnv, journal: JournalEntry, from: number): Promise<ChangeResult> {
  const ctx = makeContext(env, journal, appLayout(env.settings.appsDir, journal.app));
  const stopAt = stoppingIndex(journal);
  // The first step that touches the running app: the create or stop, or the switch of an install.
  const firstMutating = stopAt >= 0 ? stopAt : indexOf(journal, 'switchRelease');
  const quarantines = journal.kind !== 'restore';
  for (let i = from; i < journal.steps.length; i++) {
    const step = journal.steps[i]!;
    // Asked to stop (SIGTERM): before anything stopped, leave the old version serving; after, carry
    // the change through so the app is not left down (a rollback follows a failure as usual).
    if (env.signal?.aborted && i <= firstMutating && journal.phase === 'forward') {
      return finish(env, journal, { outcome: 'interrupted', reason: `the agent was asked to stop before ${step.kind}; nothing had been stopped, ${journal.from ?? 'nothing'} still runs`, quarantine: false });
    }
    const failure = await attemptStep(ctx, i, step, i > firstMutating);
    if (failure) {
      const { error: e, begun } = failure;
      if (e.code === 'locked') return finish(env, journal, { outcome: 'deferred', reason: e.message, quarantine: false });
      if (i < firstMutating || !begun) {
        if (env.signal?.aborted) {
          return finish(env, journal, { outcome: 'interrupted', reason: `the agent was asked to stop during ${step.kind}; nothing had been stopped, ${journal.from ?? 'nothing'} still runs`, quarantine: false });
        }
        // Nothing was stopped yet: the old version still serves. Quarantine what the release itself
        // got wrong; a full disk or a flaky link is the node's trouble, and the next cycle tries again.
        return finish(env, journal, { outcome: 'failed', reason: e.message, quarantine: quarantines && e.retry !== 'transient' && e.code !== 'no-space', code: e.code });
      }
      // An engine that stayed silent past apply.engineWait is the node's fault, never the release's.
      return rollback(env, journal, `${step.kind} failed: ${e.message}`, quarantines && !isEngineUnreachable(e), e.code);
    }
  }
  return finish(env, journal, { outcome: 'applied', reason: journal.reason, quarantine: false });
}

/** A change on the installed version: forward to the end, or on a failure through its settling steps. */
async function runInPlace(env: ApplyEnv, journal: JournalEntry, from: number): Promise<ChangeResult> {
  const ctx = makeContext(env, journal, appLayout(env.settings.appsDir, journal.app));
  const settleAt = settleIndex(journal);
  for (let i = from; i < journal.steps.length; i++) {
    const step = journal.steps[i]!;
    if (env.signal?.aborted && i === 0) {
      return finish(env, journal, { outcome: 'interrupted', reason: `the agent was asked to stop before ${step.kind}; nothing was done`, quarantine: false });
    }
    const failure = await attemptStep(ctx, i, step, i > 0);
    if (failure) {
      const { error: e, begun } = failure;
      const why = `${step.kind} failed: ${e.message}`;
      // Refused before the first step touched anything (no room for the backup): nothing to settle.
      if (!begun && i === 0) return finish(env, journal, { outcome: 'failed', reason: e.message, quarantine: false, code: e.code });
      if (settleAt > i) return runSettle(env, journal, why, settleAt, e.code);
      return finish(env, journal, { outcome: 'failed', reason: why, quarantine: false, code: e.code });
    }
  }
  return finish(env, journal, { outcome: 'applied', reason: journal.reason, quarantine: false });
}

/** The steps that still run after a failure (the start after a backup): the change ends failed either way. */
async function runSettle(env: ApplyEnv, journal: JournalEntry, why: string, from: number, code: string | undefined): Promise<ChangeResult> {
  journal.phase = 'settle';
  journal.failure = why;
  journal.failureCode = code;
  await saveJournal(env, journal);
  const ctx = makeContext(env, journal, appLayout(env.settings.appsDir, journal.app));
  for (let i = from; i < journal.steps.length; i++) {
    const step = journal.steps[i]!;
    try {
      await runStep(ctx, i, step, true);
    } catch (err) {
      return finish(env, journal, { outcome: 'failed', reason: `${why}; then ${step.kind} failed too: ${toDuckError(err).message}`, quarantine: false, ...codeOf(code) });
    }
  }
  const where = journal.to ? `; ${journal.app} ${journal.to} runs again` : '';
  return finish(env, journal, { outcome: 'failed', reason: `${why}${where}`, quarantine: false, ...codeOf(code) });
}

/**
 * A repair after a failed rollback: first look at what runs (read-only). An app already healthy on
 * its recorded version needs no Docker call; otherwise the planned steps run like any in-place change.
 */
async function runRepair(env: ApplyEnv, journal: JournalEntry): Promise<ChangeResult> {
  const layout = appLayout(env.settings.appsDir, journal.app);
  try {
    const healthy = await waitOutEngine(() => runsHealthy(env.services.runtime, layout, journal.to!), engineWait(env, journal.app));
    if (healthy) return finish(env, journal, { outcome: 'applied', reason: `${journal.app} ${journal.to} runs and is healthy: nothing to repair`, quarantine: false });
  } catch (err) {
    const e = toDuckError(err);
    return finish(env, journal, { outcome: 'failed', reason: `could not see what runs of ${journal.app}: ${e.message}; tried again next cycle`, quarantine: false, code: e.code });
  }
  return runInPlace(env, journal, 0);
}

/**
 * One forward step: what must hold before a stop (update lock, room for the backup), then the step.
 * A failure is returned with whether the step itself had begun (a refused precondition touched nothing).
 */
async function attemptStep(ctx: ApplyContext, index: number, step: Step, waitEngine: boolean): Promise<{ error: DuckError; begun: boolean } | null> {
  let begun = false;
  try {
    if (step.kind === 'stop') await checkReadyToStop(ctx, step.version);
    if (step.kind === 'create') await checkReadyToStop(ctx, step.from);
    begun = true;
    await runStep(ctx, index, step, waitEngine);
    return null;
  } catch (err) {
    const error = toDuckError(err);
    ctx.env.log('step-failed', { app: ctx.journal.app, step: step.kind, code: error.code, message: error.message });
    return { error, begun };
  }
}

/**
 * One step, journalled before it runs. `waitEngine`: the app was already touched, so a Docker
 * outage is waited out (bounded) rather than failing the change halfway; the health wait does that
 * itself, its outage not counted against the release's timeout (apply/health.ts).
 */
async function runStep(ctx: ApplyContext, index: number, step: Step, waitEngine: boolean): Promise<void> {
  const { env, journal } = ctx;
  const started = Date.now();
  journal.running = index;
  journal.runningDone = false;
  await saveJournal(env, journal);
  await maybeCrash(env, step.kind, 'before');
  const execute = () => (EXECUTORS[step.kind] as (s: Step, c: ApplyContext) => Promise<void>)(step, ctx);
  await (waitEngine && step.kind !== 'awaitHealth' ? waitOutEngine(execute, engineWait(env, journal.app)) : execute());
  await maybeCrash(env, step.kind, 'after');
  journal.runningDone = true;
  await saveJournal(env, journal);
  env.log('step', { app: journal.app, step: step.kind, ms: Date.now() - started });
}

/**
 * Stop the new version, restore the backup when the data may have changed, switch back, start
 * the old version and check it. Safe to run again from the top after a crash: the quarantine and
 * the failure are journalled before the first of its moves (issue 12 §7), each move may run twice.
 * A Docker outage is waited out at each move (apply.engineWait); if the engine stays silent the
 * rollback fails, and the next cycle repairs the app once the engine answers (planRepair).
 */
async function rollback(env: ApplyEnv, journal: JournalEntry, why: string, quarantine: boolean, code: string | undefined): Promise<ChangeResult> {
  journal.phase = 'rollback';
  journal.failure = why;
  journal.failureCode = code;
  journal.quarantine = quarantine;
  await saveJournal(env, journal);
  await maybeCrash(env, 'rollback', 'before');
  const layout = appLayout(env.settings.appsDir, journal.app);
  const ctx = makeContext(env, journal, layout);
  const newRan = indexOf(journal, 'up') >= 0 && journal.running >= indexOf(journal, 'up');
  const dataTouched = newRan || (indexOf(journal, 'restoreData') >= 0 && journal.running >= indexOf(journal, 'restoreData'));
  const wait = engineWait(env, journal.app);
  /** One move of the rollback, with its kill points (`rollback-<move>:before|after`) for the crash tests. */
  const move = async (name: string, act: () => Promise<unknown>, waitsItself = false): Promise<void> => {
    await maybeCrash(env, `rollback-${name}`, 'before');
    await (waitsItself ? act() : waitOutEngine(act, wait));
    await maybeCrash(env, `rollback-${name}`, 'after');
  };
  env.log('rollback', { app: journal.app, from: journal.to, to: journal.from, reason: why });
  try {
    if (newRan && journal.to !== null) {
      // A stop that fails for any other reason than the engine is no reason not to go on: the up below replaces the containers.
      await move('stop', () => env.services.runtime.stop(layout.project, ctx.target(journal.to!)).catch((err: unknown) => {
        if (isEngineUnreachable(err)) throw err;
      }));
    }
    if (dataTouched && journal.backupId) {
      const names = backupStepOf(journal)?.volumes ?? [];
      await move('restore', async () => env.services.backups.restore(journal.backupId!, { dataDir: layout.dataDir, volumes: await env.services.volumes(layout.project, names) }));
    }
    await move('switch', () => switchCurrent(layout, journal.from));
    if (journal.from !== null) {
      const { content } = await env.readRelease(journal.app, journal.from, env.state.read().apps[journal.app]?.commit ?? journal.commit).catch(() => ({ content: null }));
      const target = ctx.target(journal.from);
      await move('up', () => env.services.runtime.up(layout.project, target));
      const health = content?.release.health;
      await move('health', () => env.services.awaitHealthy(journal.app, layout.project, target, health?.probes ?? [], healthTimeoutMs(health)), true);
    }
  } catch (err) {
    const e = toDuckError(err);
    return finish(env, journal, {
      outcome: 'rollback-failed',
      reason: `${why}; then the rollback failed: ${e.message}`,
      quarantine,
      ...codeOf(code),
      repairBackup: dataTouched ? journal.backupId : null,
    });
  }
  return finish(env, journal, { outcome: 'rolled-back', reason: why, quarantine, ...codeOf(code) });
}

async function finish(env: ApplyEnv, journal: JournalEntry, end: ChangeEnd): Promise<ChangeResult> {
  const now = env.clock();
  let ms = 0;
  await env.state.update((s) => {
    ms = recordChangeEnd(s, journal, end, now, randomUUID()).ms ?? 0;
  });
  const kind = journal.kind ?? 'upgrade';
  env.log('outcome', { app: journal.app, kind, outcome: end.outcome, from: journal.from, to: journal.to, reason: end.reason, ms });
  if (end.outcome === 'applied' && CHANGE_RULES[kind].switches) await afterApplied(env, journal);
  return { app: journal.app, outcome: end.outcome, from: journal.from, to: journal.to, reason: end.reason, ms };
}

/** Keep what a rollback needs (the previous release and its backup); trim what is beyond N. */
async function afterApplied(env: ApplyEnv, journal: JournalEntry): Promise<void> {
  try {
    const keep = [journal.to!, ...(journal.from ? [journal.from] : [])];
    const { removed, unusedImages } = await pruneReleases(appLayout(env.settings.appsDir, journal.app), keep, env.settings.keepReleases);
    const images = await env.services.removeImages(unusedImages);
    if (removed.length > 0) env.log('pruned', { app: journal.app, releases: removed, images });
    await env.services.backups.prune(journal.app, env.settings.keepBackups, journal.backupId ? [journal.backupId] : []);
  } catch (err) {
    env.log('prune-failed', { app: journal.app, message: toDuckError(err).message });
  }
}

async function saveJournal(env: ApplyEnv, journal: JournalEntry): Promise<void> {
  const copy = structuredClone(journal);
  await env.state.update((s) => {
    s.journal[journal.app] = copy;
  });
}

function engineWait(env: ApplyEnv, app: string) {
  return { maxMs: env.settings.engineWaitMs, onWait: (message: string, attempt: number) => env.log('engine-wait', { app, attempt, message }) };
}

function codeOf(code: string | undefined): { code?: string } {
  return code === undefined ? {} : { code };
}

function indexOf(journal: JournalEntry, kind: StepKind): number {
  return journal.steps.findIndex((s) => s.kind === kind);
}

/** The first step that stops what runs (create or stop), or -1 when the change has none. */
function stoppingIndex(journal: JournalEntry): number {
  return journal.steps.findIndex((s) => STOPPING_STEPS.includes(s.kind));
}

/** Where the settling steps of an in-place change begin; past the end when it has none. */
function settleIndex(journal: JournalEntry): number {
  const from = CHANGE_RULES[journal.kind ?? 'upgrade'].settleFrom;
  const at = from ? indexOf(journal, from) : -1;
  return at >= 0 ? at : journal.steps.length;
}

/** A test's kill point: the process dies there as a SIGKILL would leave it (the journal as written). */
async function maybeCrash(env: ApplyEnv, kind: string, when: 'before' | 'after'): Promise<void> {
  if (!env.faults.killAt) return;
  const [at, phase = 'before'] = env.faults.killAt.split(':');
  if (at === kind && phase === when) await env.kill();
}
