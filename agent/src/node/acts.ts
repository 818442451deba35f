import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OverlayFile } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import type { ApplyEnv } from '../apply/apply-env.js';
import type { ChangeResult } from '../apply/apply-change.js';
import { applyChange } from '../apply/apply-change.js';
import { appLayout, currentVersion } from '../apply/app-layout.js';
import { readInstalledRelease } from '../apply/release-files.js';
import { planBackupNow, planPurge, planRestore, planStartStop } from '../core/act-plans.js';
import type { InstalledApp } from '../core/agent-state.js';
import type { PlannedChange } from '../core/change.js';
import type { ChangeSummary, OperatorRequest, RequestResult } from '../core/operator-request.js';
import type { CycleDeps, CycleOutcome } from './cycle.js';
import { acknowledge } from './announcements.js';
import { checkChannel, runCycle } from './cycle.js';
import { appConfigHash, decide, readAcceptedLocally } from './decisions.js';
import type { Logger } from '../ports.js';
import type { NodeParts } from './wiring.js';

/**
 * What an operator's request does, whoever carries it out (the CLI in-process, or the daemon
 * between its cycles): it plans — a change from core/, or a cycle with the operator's say — and
 * hands the plan to the journalled executor. No act calls the runtime itself. Throws a DuckError
 * on refusal.
 */
export interface ActContext {
  readonly node: NodeParts;
  readonly log: Logger;
  readonly overlay: OverlayFile;
  /** What applying needs; built on first use, so reading acts never start compose. */
  env(): Promise<ApplyEnv>;
  /** The report stage of the cycles an act runs (the daemon's reporter), if any. */
  readonly report?: (outcome: CycleOutcome) => Promise<void>;
}

export async function carryOut(ctx: ActContext, request: OperatorRequest): Promise<RequestResult> {
  switch (request.kind) {
    case 'fetch':
      return fetchNow(ctx, request.allowReset === true);
    case 'upgrade':
      return upgrade(ctx, request);
    case 'retry':
      return retry(ctx, request.app);
    case 'start':
    case 'stop':
    case 'restart':
      return startStop(ctx, request.kind, request.app);
    case 'backup':
      return backupNow(ctx, request.app);
    case 'restore':
      return restore(ctx, request.backupId);
    case 'purge':
      return purge(ctx, request.app);
    case 'acknowledge':
      return acknowledge(ctx.node, request.id);
    case 'enroll':
      throw new DuckError('internal', 'enrolling is the writer session\'s, not an act');
  }
}

/** duck verify, duck check: the fetch and accept stages now; nothing is applied. */
async function fetchNow(ctx: ActContext, allowReset: boolean): Promise<RequestResult> {
  const accepted = await checkChannel({ node: ctx.node, log: ctx.log }, { allowReset });
  const { anchor } = accepted;
  ctx.log('fetched', { commit: anchor.commit, changed: accepted.changed });
  return {
    ok: true,
    lines: [],
    changes: [],
    data: {
      channel: {
        commit: anchor.commit,
        signer: { name: anchor.signerName, fingerprint: anchor.signerFingerprint },
        committedAt: anchor.committedAt,
        channelVersion: anchor.channelVersion,
        changed: accepted.changed,
        fetched: accepted.fetched,
        stale: accepted.stale,
        freshnessMs: accepted.freshnessMs,
        group: accepted.content.groupName,
        groupFile: accepted.content.groupFile,
        passedOver: accepted.passedOver,
        ...(accepted.scope ? { signerScope: accepted.scope.scope, promotionBase: accepted.scope.base } : {}),
        thresholds: accepted.thresholds,
      },
    },
  };
}

async function upgrade(ctx: ActContext, request: Extract<OperatorRequest, { kind: 'upgrade' }>): Promise<RequestResult> {
  const view = await readAcceptedLocally(ctx.node);
  if (!view) throw new DuckError('not-found', 'no channel commit has been accepted yet (duck verify)');
  const upgradeNow = request.apps ? new Set(request.apps) : 'all';
  const { desired } = await decide(ctx.node, view, { overlay: ctx.overlay, upgradeNow });
  const moving = desired.apps.filter((a) => a.decision === 'apply' && (!request.apps || request.apps.includes(a.app)));
  // The operator agreed to what was shown; if the channel moved since, they decide again.
  const drift = moving.filter((a) => request.targets[a.app] !== a.desired).map((a) => `${a.app} is now headed for ${a.desired}, not ${request.targets[a.app] ?? 'nothing'}`);
  const vanished = Object.keys(request.targets).filter((app) => !moving.some((a) => a.app === app));
  if (drift.length > 0 || vanished.length > 0) {
    throw new DuckError('usage', `the desired state changed after it was shown (${[...drift, ...vanished.map((a) => `${a} has nothing to move`)].join('; ')}): run duck upgrade again`);
  }
  const outcome = await runCycle(cycleDeps(ctx), { fetch: false, upgradeNow, only: new Set(moving.map((a) => a.app)) });
  const changes = [...outcome.apply.changes];
  return { ok: changes.every((c) => c.outcome === 'applied'), lines: changes.map(changeLine), changes };
}

async function retry(ctx: ActContext, app: string): Promise<RequestResult> {
  const { state, clock } = ctx.node;
  const { failed: all, backoff: backoffs } = state.read();
  const failed = all[app];
  const backoff = backoffs[app];
  if (!failed && !backoff) throw new DuckError('usage', `${app} has no failed version and no back-off to retry (see duck status)`);
  const version = failed?.version ?? backoff!.version;
  await state.update((s) => {
    if (failed) s.failed[app] = { ...failed, retryRequested: true };
    // The operator's say lifts a back-off: the next failure counts from one again.
    delete s.backoff[app];
    s.history.push({ id: randomUUID(), at: clock().toISOString(), app, from: version, to: version, outcome: 'retry', reason: `duck retry: ${version} may be tried again` });
  });
  const outcome = await runCycle(cycleDeps(ctx), { fetch: false, only: new Set([app]) });
  const changes = [...outcome.apply.changes];
  const lines = [failed ? `${app} ${version} may be tried again (it failed ${failed.attempts ?? 1} time(s) here)` : `${app} ${version}: back-off lifted (${backoff!.failures} failure(s) of ${backoff!.cause})`];
  lines.push(...changes.map(changeLine));
  lines.push(...outcome.waits.filter((w) => w.app === app).map((w) => `${app}: waiting: ${w.reason}`));
  return { ok: changes.every((c) => c.outcome === 'applied'), lines, changes };
}

/** The app as installed on this node; a usage error naming what is installed otherwise. */
export function installedOrThrow(node: NodeParts, app: string): InstalledApp {
  const apps = node.state.read().apps;
  const installed = apps[app];
  if (!installed) {
    const known = Object.keys(apps).sort().join(', ') || 'none';
    throw new DuckError('usage', `no app "${app}" is installed on this node (installed: ${known})`);
  }
  return installed;
}

async function startStop(ctx: ActContext, act: 'start' | 'stop' | 'restart', app: string): Promise<RequestResult> {
  const installed = installedOrThrow(ctx.node, app);
  const release = await readInstalledRelease(appLayout(ctx.node.config.apply.appsDir, app), installed.version);
  const change = await run(ctx, planStartStop(act, app, installed, release));
  const done = change.outcome === 'applied';
  const line = !done
    ? changeLine(change)
    : act === 'stop'
      ? `stopped ${app} ${installed.version}; it stays stopped until duck start ${app}`
      : `${act === 'start' ? 'started' : 'restarted'} ${app} ${installed.version}`;
  return { ok: done, lines: [line], changes: done ? [] : [change] };
}

/** An on-demand backup: the stack stops for a consistent copy, then starts again if it ran. */
async function backupNow(ctx: ActContext, app: string): Promise<RequestResult> {
  const installed = installedOrThrow(ctx.node, app);
  const release = await readInstalledRelease(appLayout(ctx.node.config.apply.appsDir, app), installed.version);
  const change = await run(ctx, planBackupNow(app, installed, release));
  const entry = [...ctx.node.state.read().history].reverse().find((h) => h.app === app);
  const id = entry?.backupId ?? null;
  if (change.outcome !== 'applied' || id === null) return { ok: false, lines: [changeLine(change)], changes: [change] };
  const record = await ctx.node.backups.get(id);
  return {
    ok: true,
    lines: [`backup ${record.id}: ${app} ${installed.version}, ${record.bytes} bytes in ${Object.keys(record.files).length} files (${app} was stopped for ${change.ms} ms)`],
    changes: [],
    data: { backup: { id: record.id, app, version: installed.version, bytes: record.bytes, createdAt: record.createdAt } },
  };
}

/**
 * `duck restore <id>`: the app goes back to the version that made the backup, with that data, as
 * a journalled change planned in core/ (the data as it is now is backed up first; a restore that
 * does not come up healthy is rolled back to where the app was).
 */
async function restore(ctx: ActContext, backupId: string): Promise<RequestResult> {
  const { node, overlay } = ctx;
  const record = await node.backups.verify(backupId);
  const { app, version } = record;
  const layout = appLayout(node.config.apply.appsDir, app);
  const state = node.state.read();
  const installed = state.apps[app];
  const currentDir = installed?.version ?? (await currentVersion(layout));
  const current = currentDir === null ? null : { version: currentDir, commit: installed?.commit ?? state.channel.anchor?.commit ?? '' };
  const releaseDir = existsSync(layout.releaseDir(version)) ? layout.releaseDir(version) : node.backups.releaseDirOf(backupId);
  const release = await readInstalledRelease(layout, version, releaseDir);
  const hash = await appConfigHash(overlay, dirname(node.config.overlay), app, version, release);
  const pin = await needsPin(ctx, app, version);
  const change = await run(ctx, planRestore(record, current, release, hash, state.channel.anchor?.commit ?? '', pin));
  const lines = [changeLine(change)];
  if (change.outcome === 'applied' && pin) {
    lines.push(`pinned ${app} to ${version} in ${node.config.overlay} so the channel does not move it again; duck unpin ${app} to follow the channel`);
  }
  return { ok: change.outcome === 'applied', lines, changes: [change] };
}

/** An operator who restores an older version means to stay on it: unless the channel already wants it, it is pinned. */
async function needsPin(ctx: ActContext, app: string, version: string): Promise<boolean> {
  const { node, overlay } = ctx;
  if (overlay.pin?.[app] === version) return false;
  const view = await readAcceptedLocally(node);
  const wanted = view ? (await decide(node, view, { overlay })).desired.apps.find((a) => a.app === app) : undefined;
  return wanted?.desired !== version;
}

/** Removes an orphaned app for good: containers, networks, named volumes, release and data directories. */
async function purge(ctx: ActContext, app: string): Promise<RequestResult> {
  const { node, overlay } = ctx;
  const view = await readAcceptedLocally(node);
  if (view) {
    const { desired } = await decide(node, view, { overlay });
    const still = desired.apps.find((a) => a.app === app && a.source !== 'installed');
    if (still) throw new DuckError('usage', `${app} is still wanted on this node (${still.source === 'pin' ? 'pinned in the overlay' : 'in the group'}): only an orphaned app is purged`);
  }
  const layout = appLayout(node.config.apply.appsDir, app);
  const installed = node.state.read().apps[app];
  const version = installed?.version ?? (await currentVersion(layout));
  const change = await run(ctx, planPurge(app, version, installed?.commit ?? ''));
  if (change.outcome !== 'applied') return { ok: false, lines: [changeLine(change)], changes: [change] };
  const { backups } = await node.backups.list(app);
  const lines = [`purged ${app}: containers, named volumes and ${layout.dir} removed`];
  if (backups.length > 0) lines.push(`its ${backups.length} backup(s) are kept in ${node.backups.dir} (duck backups ${app})`);
  return { ok: true, lines, changes: [] };
}

async function run(ctx: ActContext, change: PlannedChange): Promise<ChangeResult> {
  return applyChange(await ctx.env(), change);
}

function cycleDeps(ctx: ActContext): CycleDeps {
  return { node: ctx.node, log: ctx.log, overlay: ctx.overlay, env: ctx.env, ...(ctx.report ? { report: ctx.report } : {}) };
}

/** "shop: rolled-back (1.2.0 -> 1.3.0): awaitHealth failed: …" */
export function changeLine(c: ChangeSummary): string {
  return `${c.app}: ${c.outcome} (${c.from ?? 'nothing'} -> ${c.to ?? 'removed'}): ${c.reason}`;
}
