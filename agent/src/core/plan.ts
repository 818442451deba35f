import type { ReleaseFile } from '../../../schemas/index.js';
import type { InstalledApp } from './agent-state.js';
import type { AppDesired, DesiredState } from './desired.js';
import { parseDuration } from './duration.js';
import type { Plan, Step, Wait } from './steps.js';
import { APPLY_ORDER } from './steps.js';

export const DEFAULT_HEALTH_TIMEOUT = '120s';

/** How long a release may take to become healthy before it is rolled back. */
export function healthTimeoutMs(health: ReleaseFile['health']): number {
  return parseDuration(health?.timeout ?? DEFAULT_HEALTH_TIMEOUT, { field: '/health/timeout' });
}

/** What the agent observed before planning: per app, what runs and how it was installed. */
export interface ObservedState {
  readonly apps: Readonly<Record<string, InstalledApp>>;
}

/**
 * DESIGN §4.2: plan(current, desired) -> steps, pure, with a reason for every step and every
 * wait. An install is planned as an upgrade from nothing: the same steps, minus what has nothing
 * to act on.
 */
export function plan(observed: ObservedState, desired: DesiredState): Plan {
  const steps: Step[] = [];
  const waits: Wait[] = [];
  for (const app of [...desired.apps].sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : 0))) {
    if (app.decision === 'wait') waits.push({ app: app.app, reason: app.reason, until: app.until });
    if (app.decision !== 'apply' || !app.release || app.desired === null) continue;
    steps.push(...appSteps(app, app.release, observed.apps[app.app] ?? null, desired.commit));
  }
  return { steps, waits };
}

function appSteps(app: AppDesired, release: ReleaseFile, installed: InstalledApp | null, commit: string): Step[] {
  const name = app.app;
  const to = app.desired!;
  const from = installed?.version ?? null;
  const images = release.images ?? [];
  const timeout = release.health?.timeout ?? DEFAULT_HEALTH_TIMEOUT;
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
    steps.push({ kind: 'stop', app: name, version: from, reason: `stop ${name} ${from} to switch (${app.reason})` });
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
  steps.push({ kind: 'up', app: name, version: to, reason: `start ${name} ${to} (compose up -d --remove-orphans)` });
  steps.push({
    kind: 'awaitHealth',
    app: name,
    version: to,
    probes: release.health?.probes ?? [],
    timeoutMs: healthTimeoutMs(release.health),
    reason: `wait up to ${timeout} for ${name} ${to} to be healthy (compose healthchecks${release.health?.probes?.length ? ` and ${release.health.probes.length} probe(s)` : ''}); roll back otherwise`,
  });
  return steps.sort((a, b) => APPLY_ORDER.indexOf(a.kind) - APPLY_ORDER.indexOf(b.kind));
}

function describeBackup(paths: readonly string[], volumes: readonly string[]): string {
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
