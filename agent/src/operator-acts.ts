import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { Agent } from './agent.js';
import { verifyChannel } from './agent.js';
import { editOverlay } from './adapters/overlay-file.js';
import type { ApplyEnv } from './apply/apply-env.js';
import { applyChange } from './apply/apply-change.js';
import { appLayout, currentVersion } from './apply/app-layout.js';
import { appTarget } from './apply/compose-target.js';
import { readInstalledRelease } from './apply/release-files.js';
import type { HistoryEntry, InstalledApp } from './core/agent-state.js';
import type { AppDesired } from './core/desired.js';
import { DuckError } from '../../schemas/errors.js';
import type { ChangeSummary, OperatorRequest, RequestResult } from './core/operator-request.js';
import { setPin } from './core/overlay-edits.js';
import { healthTimeoutMs } from './core/plan.js';
import type { Step } from './core/steps.js';
import { desiredAndPlan, readAcceptedLocally } from './desired-state.js';
import { appConfigHash, reconcileOnce } from './reconcile.js';

/**
 * What an operator's request does, whoever carries it out: the CLI in-process when no `duck run`
 * holds the state directory, or the daemon between its cycles. Throws a DuckError on refusal.
 */
export async function executeRequest(agent: Agent, env: ApplyEnv, request: OperatorRequest): Promise<RequestResult> {
  switch (request.kind) {
    case 'fetch':
      return fetchNow(agent, env);
    case 'upgrade':
      return upgrade(agent, env, request);
    case 'retry':
      return retry(agent, env, request.app);
    case 'start':
    case 'stop':
    case 'restart':
      return startStop(agent, env, request.kind, request.app);
    case 'backup':
      return backupNow(agent, env, request.app);
    case 'restore':
      return restore(agent, env, request.backupId);
    case 'purge':
      return purge(agent, env, request.app);
  }
}

async function fetchNow(agent: Agent, env: ApplyEnv): Promise<RequestResult> {
  const accepted = await verifyChannel(agent);
  const { anchor } = accepted;
  env.log('fetched', { commit: anchor.commit, changed: accepted.changed });
  return {
    ok: true,
    lines: [
      `accepted ${anchor.commit.slice(0, 12)} ${accepted.changed ? '(new)' : '(unchanged)'}`,
      `  signed by  ${anchor.signerName} ${anchor.signerFingerprint}`,
      `  committed  ${anchor.committedAt}`,
      ...accepted.passedOver.map((p) => `  passed over ${p.commit.slice(0, 12)}: ${p.reason}`),
    ],
    changes: [],
    data: { channel: { commit: anchor.commit, signer: { name: anchor.signerName, fingerprint: anchor.signerFingerprint }, committedAt: anchor.committedAt, changed: accepted.changed } },
  };
}

async function upgrade(agent: Agent, env: ApplyEnv, request: Extract<OperatorRequest, { kind: 'upgrade' }>): Promise<RequestResult> {
  const view = await readAcceptedLocally(agent);
  if (!view) throw new DuckError('not-found', 'no channel commit has been accepted yet (duck verify)');
  const upgradeNow = request.apps ? new Set(request.apps) : 'all';
  const { desired } = await desiredAndPlan(agent, view, { overlay: env.overlay, upgradeNow });
  const moving = desired.apps.filter((a) => a.decision === 'apply' && (!request.apps || request.apps.includes(a.app)));
  // The operator agreed to what was shown; if the channel moved since, they decide again.
  const drift = moving.filter((a) => request.targets[a.app] !== a.desired).map((a) => `${a.app} is now headed for ${a.desired}, not ${request.targets[a.app] ?? 'nothing'}`);
  const vanished = Object.keys(request.targets).filter((app) => !moving.some((a) => a.app === app));
  if (drift.length > 0 || vanished.length > 0) {
    throw new DuckError('usage', `the desired state changed after it was shown (${[...drift, ...vanished.map((a) => `${a} has nothing to move`)].join('; ')}): run duck upgrade again`);
  }
  const report = await reconcileOnce(agent, env, { fetch: false, upgradeNow, only: new Set(moving.map((a) => a.app)) });
  const changes = [...report.changes];
  return {
    ok: changes.every((c) => c.outcome === 'applied'),
    lines: changes.map(changeLine),
    changes,
  };
}

async function retry(agent: Agent, env: ApplyEnv, app: string): Promise<RequestResult> {
  const failed = agent.state.read().failed[app];
  if (!failed) throw new DuckError('usage', `${app} has no failed version to retry (see duck status)`);
  await agent.state.update((s) => {
    s.failed[app] = { ...failed, retryRequested: true };
    s.history.push(historyEntry(agent, { app, from: failed.version, to: failed.version, outcome: 'retry', reason: `duck retry: ${failed.version} may be tried again` }));
  });
  const report = await reconcileOnce(agent, env, { fetch: false, only: new Set([app]) });
  const changes = [...report.changes];
  const lines = [`${app} ${failed.version} may be tried again (it failed ${failed.attempts ?? 1} time(s) here)`];
  lines.push(...changes.map(changeLine));
  lines.push(...report.waits.filter((w) => w.app === app).map((w) => `${app}: waiting: ${w.reason}`));
  return { ok: changes.every((c) => c.outcome === 'applied'), lines, changes };
}

/** The app as installed on this node; a usage error naming what is installed otherwise. */
export function installedOrThrow(agent: Agent, app: string): InstalledApp {
  const installed = agent.state.read().apps[app];
  if (!installed) {
    const known = Object.keys(agent.state.read().apps).sort().join(', ') || 'none';
    throw new DuckError('usage', `no app "${app}" is installed on this node (installed: ${known})`);
  }
  return installed;
}

async function startStop(agent: Agent, env: ApplyEnv, kind: 'start' | 'stop' | 'restart', app: string): Promise<RequestResult> {
  const installed = installedOrThrow(agent, app);
  const layout = appLayout(agent.config.apply.appsDir, app);
  const target = appTarget(env, layout, installed.version);
  if (kind !== 'start') await env.services.runtime.stop(layout.project, target);
  if (kind !== 'stop') await env.services.runtime.up(layout.project, target);
  const stopped = kind === 'stop';
  await agent.state.update((s) => {
    s.apps[app] = { ...s.apps[app]!, stoppedByOperator: stopped };
    s.history.push(historyEntry(agent, { app, from: installed.version, to: installed.version, outcome: stopped ? 'stopped' : 'started', reason: `duck ${kind}` }));
  });
  env.log('operator', { app, act: kind, version: installed.version });
  const line = stopped
    ? `stopped ${app} ${installed.version}; it stays stopped until duck start ${app}`
    : `${kind === 'start' ? 'started' : 'restarted'} ${app} ${installed.version}`;
  return { ok: true, lines: [line], changes: [] };
}

/** An on-demand backup: the stack stops for a consistent copy, then starts again if it ran. */
async function backupNow(agent: Agent, env: ApplyEnv, app: string): Promise<RequestResult> {
  const installed = installedOrThrow(agent, app);
  const layout = appLayout(agent.config.apply.appsDir, app);
  const release = await readInstalledRelease(layout, installed.version);
  const target = appTarget(env, layout, installed.version);
  const sources = {
    dataDir: layout.dataDir,
    paths: release.backup?.paths ?? [],
    volumes: await env.services.volumes(layout.project, release.backup?.volumes ?? []),
    releaseDir: layout.releaseDir(installed.version),
  };
  await env.services.backups.assertRoom(sources);
  const started = Date.now();
  await env.services.runtime.stop(layout.project, target);
  let record;
  try {
    record = await env.services.backups.create({ ...sources, app, version: installed.version, reason: 'duck backup' });
  } finally {
    if (!installed.stoppedByOperator) await env.services.runtime.up(layout.project, target);
  }
  const downMs = Date.now() - started;
  await agent.state.update((s) => {
    s.history.push(historyEntry(agent, { app, from: installed.version, to: installed.version, outcome: 'backup', reason: 'duck backup', backupId: record.id, ms: downMs }));
  });
  env.log('backup', { app, id: record.id, bytes: record.bytes, ms: downMs });
  return {
    ok: true,
    lines: [`backup ${record.id}: ${app} ${installed.version}, ${record.bytes} bytes in ${Object.keys(record.files).length} files (${app} was stopped for ${downMs} ms)`],
    changes: [],
    data: { backup: { id: record.id, app, version: installed.version, bytes: record.bytes, createdAt: record.createdAt } },
  };
}

/**
 * `duck restore <id>`: the app goes back to the version that made the backup, with that data.
 * It is a journalled change like any other: the data as it is now is backed up first, and a
 * restore that does not come up healthy is rolled back to where the app was.
 */
async function restore(agent: Agent, env: ApplyEnv, backupId: string): Promise<RequestResult> {
  const record = await env.services.backups.verify(backupId);
  const { app, version } = record;
  const layout = appLayout(agent.config.apply.appsDir, app);
  const installed = agent.state.read().apps[app];
  const current = installed?.version ?? (await currentVersion(layout));
  await env.services.backups.restoreRelease(backupId, layout.releaseDir(version));
  const release = await readInstalledRelease(layout, version);
  const steps: Step[] = [];
  if (current !== null) {
    steps.push({ kind: 'stop', app, version: current, reason: `stop ${app} ${current} to restore ${backupId}` });
    steps.push({ kind: 'backup', app, version: current, paths: record.paths, volumes: record.volumes, reason: `keep ${app}'s data as it is now, before the restore` });
  }
  steps.push({ kind: 'restoreData', app, backupId, leaving: current ?? 'nothing', reason: `restore ${backupId} (${app} ${version}, ${record.createdAt})` });
  steps.push({ kind: 'switchRelease', app, from: current, to: version, reason: `switch to ${version}, the version that made the backup` });
  steps.push({ kind: 'up', app, version, reason: `start ${app} ${version}` });
  steps.push({ kind: 'awaitHealth', app, version, probes: release.health?.probes ?? [], timeoutMs: healthTimeoutMs(release.health), reason: `wait until ${app} ${version} is healthy` });
  const desired: AppDesired = {
    app,
    current,
    desired: version,
    source: 'installed',
    decision: 'apply',
    reason: `duck restore ${backupId}`,
    until: null,
    trigger: 'restore',
    release,
    bucket: null,
    percent: null,
  };
  const commit = installed?.commit ?? agent.state.read().channel.anchor?.commit ?? '';
  const hash = await appConfigHash(env.overlay, env.overlayDir, app, version, release);
  const change = await applyChange(env, desired, steps, commit, hash);
  const lines = [changeLine(change)];
  if (change.outcome === 'applied') lines.push(...(await pinAfterRestore(agent, env, app, version)));
  return { ok: change.outcome === 'applied', lines, changes: [change] };
}

/** An operator who restores an older version means to stay on it: the next poll must not undo it. */
async function pinAfterRestore(agent: Agent, env: ApplyEnv, app: string, version: string): Promise<string[]> {
  if (env.overlay.pin?.[app] === version) return [];
  const view = await readAcceptedLocally(agent);
  const wanted = view ? (await desiredAndPlan(agent, view, { overlay: env.overlay })).desired.apps.find((a) => a.app === app) : undefined;
  if (wanted?.desired === version) return [];
  await editOverlay(agent.config.overlay, (doc) => void setPin(doc, app, version));
  return [`pinned ${app} to ${version} in ${agent.config.overlay} so the channel does not move it again; duck unpin ${app} to follow the channel`];
}

/** Removes an orphaned app for good: containers, networks, named volumes, release and data directories. */
async function purge(agent: Agent, env: ApplyEnv, app: string): Promise<RequestResult> {
  const view = await readAcceptedLocally(agent);
  if (view) {
    const { desired } = await desiredAndPlan(agent, view, { overlay: env.overlay });
    const still = desired.apps.find((a) => a.app === app && a.source !== 'installed');
    if (still) throw new DuckError('usage', `${app} is still wanted on this node (${still.source === 'pin' ? 'pinned in the overlay' : 'in the group'}): only an orphaned app is purged`);
  }
  const layout = appLayout(agent.config.apply.appsDir, app);
  const installed = agent.state.read().apps[app];
  const version = installed?.version ?? (await currentVersion(layout));
  if (version !== null) await env.services.runtime.down(layout.project, appTarget(env, layout, version)).catch(() => undefined);
  const volumes = await env.services.removeProjectVolumes(layout.project);
  await rm(layout.dir, { recursive: true, force: true });
  const { backups } = await env.services.backups.list(app);
  await agent.state.update((s) => {
    delete s.apps[app];
    delete s.failed[app];
    delete s.journal[app];
    delete s.lockDeferredSince[app];
    s.history.push(historyEntry(agent, { app, from: version, to: null, outcome: 'purged', reason: 'duck purge' }));
  });
  env.log('purge', { app, volumes });
  const lines = [`purged ${app}: containers, ${volumes.length} volume(s)${volumes.length ? ` (${volumes.join(', ')})` : ''} and ${layout.dir} removed`];
  if (backups.length > 0) lines.push(`its ${backups.length} backup(s) are kept in ${env.services.backups.dir} (duck backups ${app})`);
  return { ok: true, lines, changes: [] };
}

/** "shop: rolled-back (1.2.0 -> 1.3.0): awaitHealth failed: …" */
function changeLine(c: ChangeSummary): string {
  return `${c.app}: ${c.outcome} (${c.from ?? 'nothing'} -> ${c.to}): ${c.reason}`;
}

function historyEntry(agent: Agent, entry: Omit<HistoryEntry, 'id' | 'at'>): HistoryEntry {
  return { id: randomUUID(), at: agent.clock().toISOString(), ...entry };
}
