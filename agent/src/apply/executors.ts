import { existsSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { JournalEntry } from '../core/agent-state.js';
import { formatDuration } from '../core/duration.js';
import { DuckError, toDuckError } from '../../../schemas/errors.js';
import type { Step, StepKind } from '../core/steps.js';
import { CHANGE_RULES } from '../core/change.js';
import type { ComposeTarget } from '../ports.js';
import type { ApplyEnv } from './apply-env.js';
import type { AppLayout } from './app-layout.js';
import { ensureAppDirs, switchCurrent } from './app-layout.js';
import { appTarget, composeServices, labelledTarget } from './compose-target.js';
import { writeReleaseDir } from './release-files.js';

/** What an executor acts on: the app's layout and the change the journal describes. */
export interface ApplyContext {
  readonly env: ApplyEnv;
  readonly journal: JournalEntry;
  readonly layout: AppLayout;
  target(version: string): ComposeTarget;
}

/** A new step kind without an executor is a type error. */
export type Executors = { [K in StepKind]: (step: Step<K>, ctx: ApplyContext) => Promise<void> };

export const EXECUTORS: Executors = {
  async restoreRelease(step, ctx) {
    await ensureAppDirs(ctx.layout);
    await ctx.env.services.backups.restoreRelease(step.backupId, ctx.layout.releaseDir(step.version));
  },
  async writeRelease(step, ctx) {
    await ensureAppDirs(ctx.layout);
    const { content, tree } = await ctx.env.readRelease(step.app, step.version, step.commit);
    await writeReleaseDir(ctx.layout, content, tree);
  },
  async fetchImages(step, ctx) {
    await ctx.env.services.ensureImages(step.images, ctx.layout.releaseDir(step.version), step.app, ctx.env.signal);
  },
  async preCopy(step, ctx) {
    const { layout, env } = ctx;
    try {
      const record = await env.services.backups.precopy({
        key: ctx.journal.id,
        dataDir: layout.dataDir,
        paths: step.paths,
        volumes: await env.services.volumes(layout.project, step.volumes),
        releaseDir: layout.releaseDir(step.version),
      });
      env.log('precopy', { app: step.app, bytes: record.bytes, settled: Object.keys(record.files).length });
    } catch (err) {
      const e = toDuckError(err);
      // The pre-copy only shortens the stop: a file-system hiccup here costs the full copy after
      // the stop, never the change. No room, or no engine, would fail that backup too: refused here, before the stop.
      if (e.code !== 'io') throw e;
      env.log('precopy-failed', { app: step.app, message: e.message });
    }
  },
  async create(step, ctx) {
    const { env, layout } = ctx;
    const target = await labelledTarget(ctx.target(step.version), layout.dir, ctx.journal.commit);
    // Compose v1 kills an orphan (a service the new version drops) where it removes it: such an
    // old version is stopped first, gracefully, as compose's own stop would.
    const old = ctx.target(step.from);
    const kept = new Set(await composeServices(target));
    if ((await composeServices(old)).some((name) => !kept.has(name))) await env.services.runtime.stop(layout.project, old);
    await env.services.runtime.create(layout.project, target);
  },
  async stop(step, ctx) {
    await ctx.env.services.runtime.stop(ctx.layout.project, ctx.target(step.version));
  },
  async backup(step, ctx) {
    const { layout } = ctx;
    const precopy = precopyKeyOf(ctx.journal);
    const record = await ctx.env.services.backups.create({
      app: step.app,
      version: step.version,
      dataDir: layout.dataDir,
      paths: step.paths,
      volumes: await backupVolumes(ctx, step, precopy),
      releaseDir: layout.releaseDir(step.version),
      reason: ctx.journal.kind === 'backup' ? 'duck backup' : `before ${ctx.journal.from ?? 'install'} -> ${ctx.journal.to}`,
      ...(precopy ? { precopy } : {}),
    });
    ctx.journal.backupId = record.id;
    await ctx.env.state.update((s) => {
      if (s.journal[step.app]) s.journal[step.app]!.backupId = record.id;
    });
    ctx.env.log('backup', { app: step.app, id: record.id, bytes: record.bytes, ...(record.delta ?? {}) });
  },
  async restoreData(step, ctx) {
    // The volumes the backup holds, whatever this change backed up before (a restore onto nothing backs up nothing).
    const record = await ctx.env.services.backups.get(step.backupId);
    const volumes = await ctx.env.services.volumes(ctx.layout.project, record.volumes);
    await ctx.env.services.backups.restore(step.backupId, { dataDir: ctx.layout.dataDir, volumes });
  },
  async switchRelease(step, ctx) {
    await ensureAppDirs(ctx.layout);
    await switchCurrent(ctx.layout, step.to);
  },
  async down(step, ctx) {
    await ctx.env.services.runtime.down(ctx.layout.project, ctx.target(step.version));
  },
  async removeVolumes(step, ctx) {
    const removed = await ctx.env.services.removeProjectVolumes(ctx.layout.project);
    ctx.env.log('volumes-removed', { app: step.app, volumes: removed });
  },
  async removeAppFiles(_step, ctx) {
    await rm(ctx.layout.dir, { recursive: true, force: true });
  },
  async up(step, ctx) {
    const target = await labelledTarget(ctx.target(step.version), ctx.layout.dir, ctx.journal.commit);
    const { runtime } = ctx.env.services;
    // The containers this change created: the engine starts them (no compose process in the window).
    if (!ctx.journal.steps.some((s) => s.kind === 'create' && s.version === step.version)) return runtime.up(ctx.layout.project, target);
    const started = await runtime.start(ctx.layout.project, target);
    ctx.env.log('started', { app: step.app, version: step.version, ...started });
  },
  async pinVersion(step, ctx) {
    await ctx.env.services.pinVersion(step.app, step.version);
  },
  async awaitHealth(step, ctx) {
    await ctx.env.services.awaitHealthy(step.app, ctx.layout.project, ctx.target(step.version), step.probes, step.timeoutMs);
  },
};

export function makeContext(env: ApplyEnv, journal: JournalEntry, layout: AppLayout): ApplyContext {
  return { env, journal, layout, target: (version) => appTarget(env, layout, version) };
}

/** The key of the change's pre-copy (its journal id), or null when it plans none. */
function precopyKeyOf(journal: JournalEntry): string | null {
  return journal.steps.some((s) => s.kind === 'preCopy') ? journal.id : null;
}

/**
 * The volumes to back up: the pre-copy already asked Docker for the same names, and a volume's
 * mountpoint does not move while its project exists, so the stopped window spends no call on it.
 */
async function backupVolumes(ctx: ApplyContext, step: Step<'backup'>, precopy: string | null): Promise<Array<{ name: string; mountpoint: string }>> {
  const known = precopy ? await ctx.env.services.backups.precopied(precopy) : null;
  const names = new Set(known?.volumes.map((v) => v.name) ?? []);
  if (known && step.volumes.length === names.size && step.volumes.every((n) => names.has(n))) return known.volumes;
  return ctx.env.services.volumes(ctx.layout.project, step.volumes);
}

/** The change's backup step: what it backs up, and what a restore puts back. */
export function backupStepOf(journal: JournalEntry): Step<'backup'> | undefined {
  return journal.steps.find((s): s is Step<'backup'> => s.kind === 'backup');
}

/**
 * What must hold right before the stop (downloads went ahead already): the app does not hold its
 * update lock, and the backup fits on disk. A refusal here leaves the old version running.
 */
export async function checkReadyToStop(ctx: ApplyContext, version: string): Promise<void> {
  // The update lock defers a switch; an operator's own stop or backup is not the channel's to defer.
  if (CHANGE_RULES[ctx.journal.kind ?? 'upgrade'].switches) await assertNotLocked(ctx);
  const { layout } = ctx;
  const backup = backupStepOf(ctx.journal);
  if (!backup) return;
  await ctx.env.services.backups.assertRoom(
    {
      dataDir: layout.dataDir,
      paths: backup.paths,
      volumes: await ctx.env.services.volumes(layout.project, backup.volumes),
      releaseDir: layout.releaseDir(version),
    },
    precopyKeyOf(ctx.journal) ?? undefined,
  );
}

async function assertNotLocked(ctx: ApplyContext): Promise<void> {
  const { env, layout, journal } = ctx;
  if (env.force || !existsSync(layout.lockFile)) return;
  const now = env.clock();
  const since = env.state.read().lockDeferredSince[layout.app] ?? now.toISOString();
  await env.state.update((s) => {
    s.lockDeferredSince[layout.app] ??= since;
  });
  const waited = now.getTime() - Date.parse(since);
  const overdue = waited >= env.settings.maxLockDeferMs;
  const held = `${layout.lockFile} exists (held for ${formatDuration(Math.max(0, now.getTime() - statSync(layout.lockFile).mtimeMs))})`;
  throw new DuckError(
    'locked',
    overdue
      ? `${layout.app}: update lock ${held}; deferred for ${formatDuration(waited)}, past the ${formatDuration(env.settings.maxLockDeferMs)} maximum: the operator decides (duck upgrade --force)`
      : `${layout.app}: update lock ${held}; ${journal.from ?? 'install'} -> ${journal.to} deferred`,
    { app: layout.app, file: layout.lockFile, overdue },
  );
}
