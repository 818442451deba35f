import type { ReleaseFile } from '../../../schemas/index.js';
import type { InstalledApp } from './agent-state.js';
import type { Plan, PlannedChange } from './change.js';
import { releaseDigest } from './config-hash.js';
import type { AppDesired, DesiredState } from './desired.js';
import { releaseKey } from './desired.js';
import { parseDuration } from './duration.js';
import type { Step, Wait } from './steps.js';
import { byApplyOrder } from './steps.js';

export const DEFAULT_HEALTH_TIMEOUT = '120s';

/** How long a release may take to become healthy before it is rolled back. */
export function healthTimeoutMs(health: ReleaseFile['health']): number {
  return parseDuration(health?.timeout ?? DEFAULT_HEALTH_TIMEOUT, { field: '/health/timeout' });
}

/** What the agent observed before planning: per app, what runs and how it was installed. */
export interface ObservedState {
  readonly apps: Readonly<Record<string, InstalledApp>>;
}

export interface PlanInput {
  readonly observed: ObservedState;
  readonly desired: DesiredState;
  /** Every release resolve could target, by `app@version` (the running ones among them). */
  readonly releases: ReadonlyMap<string, ReleaseFile>;
  /** Per app, the hash of what would shape it now (release, images, overlay overrides) at its desired version. */
  readonly configHashes: Readonly<Record<string, string>>;
}

/**
 * DESIGN §4.2: plan(current, desired) -> changes, pure, with a reason for every step and every
 * wait. An install is planned as an upgrade from nothing. Beside the version changes: an app that
 * left the group is stopped once (kept until duck purge), and an app whose overlay compose
 * overrides changed is started again with them. An unchanged hash plans nothing, so a poll or a
 * restart that changes nothing makes no Docker call.
 */
export function plan(input: PlanInput): Plan {
  const changes: PlannedChange[] = [];
  const waits: Wait[] = [];
  const { desired } = input;
  for (const app of [...desired.apps].sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : 0))) {
    const installed = input.observed.apps[app.app] ?? null;
    const hash = input.configHashes[app.app] ?? null;
    // A failed rollback left the app in doubt: bringing it back comes before anything else it may need.
    if (installed?.repair) {
      changes.push(planRepair(app.app, installed, input.releases.get(releaseKey(app.app, installed.version)) ?? null));
      continue;
    }
    if (app.decision === 'wait') waits.push({ app: app.app, reason: app.reason, until: app.until, kind: app.waitingFor });
    if (app.decision === 'apply' && app.release && app.desired !== null && hash !== null) {
      changes.push(planUpgrade(app, app.release, installed, desired.commit, hash));
    } else if (app.source === 'installed') {
      if (installed && !installed.orphaned) changes.push(planOrphanStop(app.app, installed, app.reason));
    } else if (app.decision === 'none' && installed && app.current === app.desired && !installed.stoppedByOperator && hash !== null) {
      const release = input.releases.get(releaseKey(app.app, installed.version));
      const why = reconfigureReason(installed, hash);
      if (release && why) changes.push(planReconfigure(app.app, installed, release, hash, why));
    }
  }
  return { changes, waits };
}

/** Why an app at its desired version must be started again, or null when nothing changed. */
function reconfigureReason(installed: InstalledApp, hash: string): string | null {
  if (installed.orphaned) return `back in the group: start ${installed.version} again`;
  // A state from before the hash was kept knows no old hash: nothing is known to have changed.
  if (installed.configHash === undefined || installed.configHash === hash) return null;
  return 'the overlay compose overrides changed';
}

/** A version change of one app, from what is installed (or nothing) to `app.desired`. */
export function planUpgrade(app: AppDesired, release: ReleaseFile, installed: InstalledApp | null, commit: string, configHash: string): PlannedChange {
  const name = app.app;
  const to = app.desired!;
  const from = installed?.version ?? null;
  const images = release.images ?? [];
  const paths = release.backup?.paths ?? [];
  const volumes = release.backup?.volumes ?? [];
  const steps: Step[] = [
    { kind: 'writeRelease', app: name, version: to, commit, reason: `write releases/${name}/${to} from commit ${commit.slice(0, 12)} into a new directory (the running one is untouched)` },
    {
      kind: 'fetchImages',
      app: name,
      version: to,
      images,
      reason: images.length === 0 ? `no images listed for ${name} ${to}` : `fetch ${images.length} image(s) of ${name} ${to} while ${from ?? 'nothing'} still serves`,
    },
  ];
  if (from !== null) {
    steps.push({
      kind: 'preCopy',
      app: name,
      version: from,
      paths,
      volumes,
      reason: `copy the data of ${name} ${from} while it still serves, so the backup after the stop copies only what changed`,
    });
    steps.push({
      kind: 'create',
      app: name,
      version: to,
      from,
      reason: `create the containers of ${name} ${to} without starting them, which stops ${from} to switch (${app.reason})`,
    });
    steps.push({
      kind: 'backup',
      app: name,
      version: from,
      paths,
      volumes,
      reason: `back up the data of ${name} ${from} (${describeBackup(paths, volumes)}) and its release directory`,
    });
    if (isDowngrade(from, to) && installed?.migrations === 'irreversible' && installed.backupBeforeInstall) {
      steps.push({
        kind: 'restoreData',
        app: name,
        backupId: installed.backupBeforeInstall,
        leaving: from,
        reason: `${name} ${from} declares irreversible migrations: restore backup ${installed.backupBeforeInstall}, taken before ${from} was installed`,
      });
    }
  }
  steps.push({ kind: 'switchRelease', app: name, from, to, reason: `switch ${name} from ${from ?? 'nothing'} to ${to}` });
  steps.push(...startSteps(name, to, release, 'roll back otherwise'));
  return {
    kind: 'upgrade',
    app: name,
    from,
    to,
    trigger: app.trigger ?? 'channel',
    reason: app.reason,
    steps: steps.sort(byApplyOrder),
    commit,
    configHash,
    releaseDigest: releaseDigest(release),
    migrations: release.migrations ?? 'reversible',
  };
}

/** An app no longer in the group (nor pinned) is stopped once; its containers, volumes and data stay (DESIGN §4.3). */
export function planOrphanStop(app: string, installed: InstalledApp, reason: string): PlannedChange {
  const steps: Step[] = [{ kind: 'stop', app, version: installed.version, reason: `stop ${app} ${installed.version}: ${reason}` }];
  return inPlace('orphan', app, installed, 'channel', reason, steps);
}

/** Same version, new overlay compose overrides (or back in the group): `compose up` with them and wait for health. */
export function planReconfigure(app: string, installed: InstalledApp, release: ReleaseFile, configHash: string, why: string): PlannedChange {
  const steps = startSteps(app, installed.version, release, 'reported as failed otherwise');
  return { ...inPlace('reconfigure', app, installed, 'overlay', why, steps), configHash };
}

/**
 * After a failed rollback (issue 12 §6): back to the installed version, the last healthy one —
 * stop what runs, put the data back when the failed version ran on it, switch, start, check. The
 * executor first looks at what runs (apply-change.ts): an app already healthy there is left alone.
 * `release` is null when the accepted commit no longer has it: compose healthchecks alone then.
 */
export function planRepair(app: string, installed: InstalledApp, release: ReleaseFile | null): PlannedChange {
  const { version } = installed;
  const need = installed.repair!;
  const steps: Step[] = [{ kind: 'stop', app, version, reason: `stop whatever of ${app} runs (${need.failedTo ?? 'unknown'} or ${version}): its last rollback failed` }];
  if (need.backupId) {
    steps.push({ kind: 'restoreData', app, backupId: need.backupId, leaving: need.failedTo ?? version, reason: `${need.failedTo ?? 'the failed version'} ran on the data: restore backup ${need.backupId}` });
  }
  steps.push({ kind: 'switchRelease', app, from: need.failedTo, to: version, reason: `switch ${app} back to ${version}, the last healthy version` });
  steps.push(...startSteps(app, version, release ?? { app, version, files: {} }, 'reported as failed otherwise, and tried again next cycle'));
  return inPlace('repair', app, installed, 'channel', `repair after a failed rollback: ${need.reason}`, steps);
}

/** `compose up` of a version, then its health: compose healthchecks and the release's probes. */
export function startSteps(app: string, version: string, release: ReleaseFile, otherwise: string): Step[] {
  const timeout = release.health?.timeout ?? DEFAULT_HEALTH_TIMEOUT;
  const probes = release.health?.probes ?? [];
  return [
    { kind: 'up', app, version, reason: `start ${app} ${version} (compose up -d --remove-orphans)` },
    {
      kind: 'awaitHealth',
      app,
      version,
      probes,
      timeoutMs: healthTimeoutMs(release.health),
      reason: `wait up to ${timeout} for ${app} ${version} to be healthy (compose healthchecks${probes.length ? ` and ${probes.length} probe(s)` : ''}); ${otherwise}`,
    },
  ];
}

/** A change that leaves the app on its installed version. */
export function inPlace(kind: PlannedChange['kind'], app: string, installed: InstalledApp, trigger: PlannedChange['trigger'], reason: string, steps: Step[]): PlannedChange {
  return {
    kind,
    app,
    from: installed.version,
    to: installed.version,
    trigger,
    reason,
    steps: steps.sort(byApplyOrder),
    commit: installed.commit,
    configHash: null,
    releaseDigest: null,
    migrations: installed.migrations,
  };
}

export function describeBackup(paths: readonly string[], volumes: readonly string[]): string {
  const parts = [paths.length ? `paths ${paths.join(', ')}` : '', volumes.length ? `volumes ${volumes.join(', ')}` : ''].filter(Boolean);
  return parts.length ? parts.join('; ') : 'no data paths declared';
}

/** Versions compare numerically part by part ("1.10.0" > "1.9.2"); text parts compare as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return 0;
}

export function isDowngrade(from: string, to: string): boolean {
  return compareVersions(to, from) < 0;
}
