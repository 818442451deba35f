import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { OverlayFile, ReleaseFile } from '../../schemas/index.js';
import type { Agent } from './agent.js';
import { verifyChannel } from './agent.js';
import type { ApplyEnv } from './apply/apply-env.js';
import type { ChangeResult } from './apply/apply-change.js';
import { applyChange, recoverChange } from './apply/apply-change.js';
import { appLayout } from './apply/app-layout.js';
import { appTarget } from './apply/compose-target.js';
import { configHash } from './core/config-hash.js';
import type { AppDesired } from './core/desired.js';
import { toDuckError } from '../../schemas/errors.js';
import type { Wait } from './core/steps.js';
import type { AcceptedView } from './desired-state.js';
import { desiredAndPlan, readAcceptedLocally } from './desired-state.js';

export interface CycleReport {
  readonly at: string;
  readonly commit: string | null;
  readonly refusal: { reason: string; message: string } | null;
  readonly changes: readonly ChangeResult[];
  readonly waits: readonly Wait[];
  readonly reconfigured: readonly string[];
}

export interface ReconcileOptions {
  readonly fetch: boolean;
  readonly upgradeNow?: ReadonlySet<string> | 'all';
  /** Only these apps (duck upgrade shop). */
  readonly only?: ReadonlySet<string>;
}

/** Finish what a killed agent left in its journal before anything else runs. */
export async function recoverJournals(agent: Agent, env: ApplyEnv): Promise<ChangeResult[]> {
  const results: ChangeResult[] = [];
  for (const journal of Object.values(agent.state.read().journal)) results.push(await recoverChange(env, structuredClone(journal)));
  return results;
}

/**
 * Observe, plan, execute (DESIGN §4.5): fetch and accept the channel (a refusal keeps the last
 * accepted commit in force), resolve against the overlay, and apply each app's steps in turn.
 */
export async function reconcileOnce(agent: Agent, env: ApplyEnv, opts: ReconcileOptions): Promise<CycleReport> {
  let refusal: CycleReport['refusal'] = null;
  let view: AcceptedView | null = null;
  if (opts.fetch) {
    try {
      const accepted = await verifyChannel(agent);
      view = { commit: accepted.anchor.commit, content: accepted.content, tree: accepted.tree };
    } catch (err) {
      const e = toDuckError(err);
      refusal = { reason: e.code, message: e.message };
      env.log('channel-refused', { reason: e.code, message: e.message });
    }
  }
  view ??= await readAcceptedLocally(agent);
  const at = env.clock().toISOString();
  if (!view) return { at, commit: null, refusal, changes: [], waits: [], reconfigured: [] };

  const { desired, plan } = await desiredAndPlan(agent, view, { overlay: env.overlay, ...(opts.upgradeNow ? { upgradeNow: opts.upgradeNow } : {}) });
  for (const wait of plan.waits) env.log('wait', { app: wait.app, outcome: 'deferred', reason: wait.reason, until: wait.until });
  await recordAdmissions(agent, desired.admit);
  const changes: ChangeResult[] = [];
  const reconfigured: string[] = [];
  for (const app of desired.apps) {
    if (opts.only && !opts.only.has(app.app)) continue;
    if (env.signal?.aborted) break;
    if (app.source === 'installed') {
      await stopOrphan(agent, env, app);
      continue;
    }
    const hash = app.desired && app.release ? await appConfigHash(env.overlay, env.overlayDir, app.app, app.desired, app.release) : null;
    if (app.decision === 'apply' && hash) {
      const scheduled = app.trigger === 'schedule' ? env.overlay.schedule?.[app.app]?.at : undefined;
      if (scheduled) await agent.state.update((s) => void (s.schedulesDone[app.app] = scheduled));
      const steps = plan.steps.filter((s) => s.app === app.app);
      changes.push(await applyChange(env, app, steps, view.commit, hash));
    } else if (app.decision === 'none' && app.current !== null && app.current === app.desired) {
      if (await reconfigureIfChanged(agent, env, view, app)) reconfigured.push(app.app);
    }
  }
  return { at, commit: view.commit, refusal, changes, waits: plan.waits, reconfigured };
}

/**
 * An app no longer in the group (nor pinned) is stopped once and reported; its containers,
 * volumes and data stay until an operator runs duck purge (DESIGN §4.3: nothing implicitly).
 */
async function stopOrphan(agent: Agent, env: ApplyEnv, app: AppDesired): Promise<void> {
  const installed = agent.state.read().apps[app.app];
  if (!installed || installed.orphaned) return;
  const layout = appLayout(env.config.apply.appsDir, app.app);
  await env.services.runtime.stop(layout.project, appTarget(env, layout, installed.version));
  await agent.state.update((s) => {
    s.apps[app.app] = { ...s.apps[app.app]!, orphaned: true };
    s.history.push({ id: randomUUID(), at: env.clock().toISOString(), app: app.app, from: installed.version, to: installed.version, outcome: 'orphaned', reason: app.reason });
  });
  env.log('orphaned', { app: app.app, version: installed.version, reason: app.reason });
}

/** A node in a rollout stays in, even when the publisher lowers the percent (DESIGN §4.1). */
async function recordAdmissions(agent: Agent, admit: readonly string[]): Promise<void> {
  if (admit.length === 0) return;
  const now = agent.clock().toISOString();
  await agent.state.update((s) => {
    for (const key of admit) s.admitted[key] ??= now;
  });
}

/**
 * Same version, but the overlay's compose overrides changed: `compose up` with the new ones.
 * An unchanged hash — a poll, an agent restart — causes no Docker call at all.
 */
async function reconfigureIfChanged(agent: Agent, env: ApplyEnv, view: AcceptedView, app: AppDesired): Promise<boolean> {
  const installed = agent.state.read().apps[app.app];
  if (!installed || installed.stoppedByOperator || app.current === null) return false;
  const { content } = await env.readRelease(app.app, app.current, view.commit).catch(() => env.readRelease(app.app, app.current!, installed.commit));
  const hash = await appConfigHash(env.overlay, env.overlayDir, app.app, app.current, content.release);
  if (!installed.orphaned && (hash === installed.configHash || installed.configHash === undefined)) {
    if (installed.configHash === undefined) await agent.state.update((s) => void (s.apps[app.app] = { ...s.apps[app.app]!, configHash: hash }));
    return false;
  }
  const layout = appLayout(env.config.apply.appsDir, app.app);
  const target = appTarget(env, layout, app.current);
  env.log('reconfigure', { app: app.app, version: app.current, reason: installed.orphaned ? `back in ${agent.config.group}: started again` : 'the overlay compose overrides changed' });
  await env.services.runtime.up(layout.project, target);
  await env.services.awaitHealthy(app.app, layout.project, target, content.release.health?.probes ?? [], 120_000);
  await agent.state.update((s) => void (s.apps[app.app] = { ...s.apps[app.app]!, configHash: hash, orphaned: false }));
  return true;
}

/** The hash of everything that shapes an app's running state (release files, images, overlay overrides). */
export async function appConfigHash(overlay: OverlayFile, overlayDir: string, app: string, version: string, release: ReleaseFile): Promise<string> {
  const override = overlay.compose?.[app];
  const overrideFileHashes: Record<string, string> = {};
  for (const file of override?.files ?? []) {
    const path = isAbsolute(file) ? file : resolve(overlayDir, file);
    overrideFileHashes[file] = await readFile(path).then(
      (b) => createHash('sha256').update(b).digest('hex'),
      () => 'missing',
    );
  }
  return configHash({ version, files: release.files, images: release.images ?? [], override, overrideFileHashes });
}
