import { randomUUID } from 'node:crypto';
import type { HistoryEntry, JournalEntry, Outcome } from '../core/agent-state.js';
import type { ChangeSummary } from '../core/operator-request.js';
import type { AppDesired } from '../core/desired.js';
import { releaseDigest } from '../core/config-hash.js';
import { toDuckError } from '../../../schemas/errors.js';
import { healthTimeoutMs } from '../core/plan.js';
import type { Step, StepKind } from '../core/steps.js';
import type { ApplyEnv } from './apply-env.js';
import { appLayout, switchCurrent } from './app-layout.js';
import type { ApplyContext } from './executors.js';
import { backupStepOf, checkReadyToStop, EXECUTORS, makeContext } from './executors.js';
import { pruneReleases } from './release-retention.js';

/** How one app's change ended: the same shape an operator's request reports. */
export type ChangeResult = ChangeSummary;

/** DESIGN §4.3: one app's change, journalled step by step, rolled back on failure after the stop. */
export async function applyChange(env: ApplyEnv, desired: AppDesired, steps: readonly Step[], commit: string, configHash: string): Promise<ChangeResult> {
  const journal: JournalEntry = {
    id: randomUUID(),
    app: desired.app,
    from: desired.current,
    to: desired.desired!,
    commit,
    trigger: desired.trigger ?? 'channel',
    reason: desired.reason,
    startedAt: env.clock().toISOString(),
    steps: [...steps],
    running: -1,
    runningDone: true,
    phase: 'forward',
    backupId: null,
    failure: null,
    configHash,
    ...(desired.release ? { releaseDigest: releaseDigest(desired.release) } : {}),
    migrations: desired.release?.migrations ?? 'reversible',
  };
  await env.state.update((s) => {
    s.journal[journal.app] = journal;
  });
  env.log('change', { app: journal.app, from: journal.from, to: journal.to, trigger: journal.trigger, reason: journal.reason });
  return runForward(env, journal, 0);
}

/** After a restart: bring an app with a journal to a healthy old or new version (DESIGN §4.3). */
export async function recoverChange(env: ApplyEnv, journal: JournalEntry): Promise<ChangeResult> {
  env.log('recover', { app: journal.app, phase: journal.phase, step: journal.steps[journal.running]?.kind ?? null, done: journal.runningDone });
  const interrupted = `the agent stopped during ${journal.steps[journal.running]?.kind ?? 'the start'} of ${journal.from ?? 'install'} -> ${journal.to}`;
  if (journal.phase === 'rollback') return rollback(env, journal, journal.failure ?? interrupted, false);
  const switched = indexOf(journal, 'switchRelease');
  if (journal.running > switched || (journal.running === switched && journal.runningDone)) {
    return runForward(env, journal, indexOf(journal, 'up'));
  }
  if (journal.running >= indexOf(journal, 'stop') && indexOf(journal, 'stop') >= 0) return rollback(env, journal, interrupted, false);
  // Nothing was stopped: the old version runs untouched; the next reconcile starts over.
  return finish(env, journal, 'interrupted', `${interrupted}; nothing had been stopped`, false);
}

async function runForward(env: ApplyEnv, journal: JournalEntry, from: number): Promise<ChangeResult> {
  const ctx = makeContext(env, journal, appLayout(env.config.apply.appsDir, journal.app));
  const stopAt = indexOf(journal, 'stop');
  // The first step that touches the running app: the stop, or the switch of an install.
  const firstMutating = stopAt >= 0 ? stopAt : indexOf(journal, 'switchRelease');
  for (let i = from; i < journal.steps.length; i++) {
    const step = journal.steps[i]!;
    // Asked to stop (SIGTERM): before anything stopped, leave the old version serving; after, carry
    // the change through so the app is not left down (a rollback follows a failure as usual).
    if (env.signal?.aborted && i <= firstMutating && journal.phase === 'forward') {
      return finish(env, journal, 'interrupted', `the agent was asked to stop before ${step.kind}; nothing had been stopped, ${journal.from ?? 'nothing'} still runs`, false);
    }
    const started = Date.now();
    let begun = false;
    try {
      if (step.kind === 'stop') await checkReadyToStop(ctx, step.version);
      begun = true;
      await runStep(ctx, i, step);
      env.log('step', { app: journal.app, step: step.kind, ms: Date.now() - started });
    } catch (err) {
      const e = toDuckError(err);
      env.log('step-failed', { app: journal.app, step: step.kind, code: e.code, message: e.message });
      if (e.code === 'locked') return finish(env, journal, 'deferred', e.message, false);
      if (i < firstMutating || !begun) {
        if (env.signal?.aborted) {
          return finish(env, journal, 'interrupted', `the agent was asked to stop during ${step.kind}; nothing had been stopped, ${journal.from ?? 'nothing'} still runs`, false);
        }
        // Nothing was stopped yet: the old version still serves. Quarantine what the release itself
        // got wrong; a full disk or a flaky link is the node's trouble, and the next cycle tries again.
        return finish(env, journal, 'failed', e.message, e.retry !== 'transient' && e.code !== 'no-space');
      }
      return rollback(env, journal, `${step.kind} failed: ${e.message}`, true);
    }
  }
  return finish(env, journal, 'applied', journal.reason, false);
}

async function runStep(ctx: ApplyContext, index: number, step: Step): Promise<void> {
  const { env, journal } = ctx;
  journal.running = index;
  journal.runningDone = false;
  await saveJournal(env, journal);
  maybeCrash(env, step.kind, 'before');
  await (EXECUTORS[step.kind] as (s: Step, c: ApplyContext) => Promise<void>)(step, ctx);
  maybeCrash(env, step.kind, 'after');
  journal.runningDone = true;
  await saveJournal(env, journal);
}

/**
 * Stop the new version, restore the backup when the data may have changed, switch back, start
 * the old version and check it. Safe to run again from the top after a crash.
 */
async function rollback(env: ApplyEnv, journal: JournalEntry, why: string, quarantine: boolean): Promise<ChangeResult> {
  journal.phase = 'rollback';
  journal.failure = why;
  await saveJournal(env, journal);
  maybeCrash(env, 'rollback', 'before');
  const layout = appLayout(env.config.apply.appsDir, journal.app);
  const ctx = makeContext(env, journal, layout);
  env.log('rollback', { app: journal.app, from: journal.to, to: journal.from, reason: why });
  try {
    const newRan = indexOf(journal, 'up') >= 0 && journal.running >= indexOf(journal, 'up');
    if (newRan) await env.services.runtime.stop(layout.project, ctx.target(journal.to)).catch(() => undefined);
    const dataTouched = newRan || (indexOf(journal, 'restoreData') >= 0 && journal.running >= indexOf(journal, 'restoreData'));
    if (dataTouched && journal.backupId) {
      const names = backupStepOf(journal)?.volumes ?? [];
      await env.services.backups.restore(journal.backupId, { dataDir: layout.dataDir, volumes: await env.services.volumes(layout.project, names) });
    }
    await switchCurrent(layout, journal.from);
    if (journal.from !== null) {
      const { content } = await env.readRelease(journal.app, journal.from, env.state.read().apps[journal.app]?.commit ?? journal.commit).catch(() => ({ content: null }));
      const target = ctx.target(journal.from);
      await env.services.runtime.up(layout.project, target);
      const health = content?.release.health;
      await env.services.awaitHealthy(journal.app, layout.project, target, health?.probes ?? [], healthTimeoutMs(health));
    }
  } catch (err) {
    const e = toDuckError(err);
    return finish(env, journal, 'rollback-failed', `${why}; then the rollback failed: ${e.message}`, quarantine);
  }
  return finish(env, journal, 'rolled-back', why, quarantine);
}

async function finish(env: ApplyEnv, journal: JournalEntry, outcome: Outcome, reason: string, quarantine: boolean): Promise<ChangeResult> {
  const now = env.clock();
  const ms = now.getTime() - Date.parse(journal.startedAt);
  const entry: HistoryEntry = {
    id: randomUUID(),
    at: now.toISOString(),
    app: journal.app,
    from: journal.from,
    to: journal.to,
    outcome,
    reason,
    commit: journal.commit,
    ms,
    backupId: journal.backupId,
    trigger: journal.trigger,
  };
  await env.state.update((s) => {
    delete s.journal[journal.app];
    s.history.push(entry);
    if (outcome !== 'deferred') delete s.lockDeferredSince[journal.app];
    if (outcome === 'applied') {
      s.apps[journal.app] = {
        version: journal.to,
        commit: journal.commit,
        since: now.toISOString(),
        migrations: journal.migrations,
        backupBeforeInstall: journal.backupId,
        configHash: journal.configHash,
        previous: journal.from,
      };
      delete s.failed[journal.app];
    }
    if (quarantine) {
      const before = s.failed[journal.app];
      const again = before?.version === journal.to && before.releaseDigest === journal.releaseDigest;
      s.failed[journal.app] = {
        version: journal.to,
        commit: journal.commit,
        at: now.toISOString(),
        reason,
        ...(journal.releaseDigest ? { releaseDigest: journal.releaseDigest } : {}),
        attempts: again ? (before.attempts ?? 1) + 1 : 1,
      };
    }
  });
  env.log('outcome', { app: journal.app, outcome, from: journal.from, to: journal.to, reason, ms });
  if (outcome === 'applied') await afterApplied(env, journal);
  return { app: journal.app, outcome, from: journal.from, to: journal.to, reason, ms };
}

/** Keep what a rollback needs (the previous release and its backup); trim what is beyond N. */
async function afterApplied(env: ApplyEnv, journal: JournalEntry): Promise<void> {
  try {
    const keep = [journal.to, ...(journal.from ? [journal.from] : [])];
    const { removed, unusedImages } = await pruneReleases(appLayout(env.config.apply.appsDir, journal.app), keep, env.config.apply.keepReleases);
    const images = await env.services.removeImages(unusedImages);
    if (removed.length > 0) env.log('pruned', { app: journal.app, releases: removed, images });
    await env.services.backups.prune(journal.app, env.config.apply.keepBackups, journal.backupId ? [journal.backupId] : []);
  } catch (err) {
    env.log('prune-failed', { app: journal.app, message: toDuckError(err).message });
  }
}

async function saveJournal(env: ApplyEnv, journal: JournalEntry): Promise<void> {
  await env.state.update((s) => {
    s.journal[journal.app] = journal;
  });
}

function indexOf(journal: JournalEntry, kind: StepKind): number {
  return journal.steps.findIndex((s) => s.kind === kind);
}

function maybeCrash(env: ApplyEnv, kind: string, when: 'before' | 'after'): void {
  if (!env.faultAt) return;
  const [at, phase = 'before'] = env.faultAt.split(':');
  if (at === kind && phase === when) process.kill(process.pid, 'SIGKILL');
}
