import type { ReleaseFile } from '../../../schemas/index.js';
import type { InstalledApp } from './agent-state.js';
import type { PlannedChange } from './change.js';
import { releaseDigest } from './config-hash.js';
import { describeBackup, inPlace, startSteps } from './plan.js';
import type { Step } from './steps.js';
import { byApplyOrder } from './steps.js';

/**
 * An operator's act on an installed app, planned like any change (DESIGN §4.11): pure, the facts
 * passed in; the session runs the plan with the journalled executor.
 */

/** `duck start` / `duck stop` / `duck restart`: an app stopped by the operator stays stopped until duck start. */
export function planStartStop(act: 'start' | 'stop' | 'restart', app: string, installed: InstalledApp, release: ReleaseFile): PlannedChange {
  const steps: Step[] = [];
  if (act !== 'start') steps.push({ kind: 'stop', app, version: installed.version, reason: `stop ${app} ${installed.version} (duck ${act})` });
  if (act !== 'stop') steps.push(...startSteps(app, installed.version, release, 'reported as failed otherwise'));
  return inPlace(act, app, installed, 'operator', `duck ${act}`, steps);
}

/**
 * `duck backup`: the stack stops for a consistent copy, then starts again — unless the operator
 * had stopped it, in which case it stays stopped. The start runs even when the backup fails.
 */
export function planBackupNow(app: string, installed: InstalledApp, release: ReleaseFile): PlannedChange {
  const paths = release.backup?.paths ?? [];
  const volumes = release.backup?.volumes ?? [];
  const steps: Step[] = [
    { kind: 'stop', app, version: installed.version, reason: `stop ${app} ${installed.version} for a consistent copy` },
    { kind: 'backup', app, version: installed.version, paths, volumes, reason: `back up ${app} ${installed.version} (${describeBackup(paths, volumes)}) and its release directory` },
  ];
  if (!installed.stoppedByOperator) steps.push(...startSteps(app, installed.version, release, 'reported as failed otherwise'));
  return inPlace('backup', app, installed, 'operator', 'duck backup', steps);
}

/** What a restore needs to know of the backup it puts back. */
export interface BackupFacts {
  readonly id: string;
  readonly app: string;
  readonly version: string;
  readonly createdAt: string;
  readonly paths: readonly string[];
  readonly volumes: readonly string[];
}

/**
 * `duck restore <id>`: back to the version that made the backup, with its data. A version change
 * like an upgrade: the data as it is now is backed up first, and a restore that does not come up
 * healthy is rolled back to where the app was.
 */
export function planRestore(
  backup: BackupFacts,
  current: { version: string; commit: string } | null,
  release: ReleaseFile,
  configHash: string,
  commit: string,
  /** The channel (or an existing pin) would move the app off the restored version: pin it, as part of the change. */
  pin: boolean,
): PlannedChange {
  const { app, version, id } = backup;
  const from = current?.version ?? null;
  const steps: Step[] = [{ kind: 'restoreRelease', app, version, backupId: id, reason: `put the release directory of ${app} ${version} back from backup ${id} (if missing)` }];
  if (from !== null) {
    steps.push({ kind: 'stop', app, version: from, reason: `stop ${app} ${from} to restore ${id}` });
    steps.push({ kind: 'backup', app, version: from, paths: [...backup.paths], volumes: [...backup.volumes], reason: `keep ${app}'s data as it is now, before the restore` });
  }
  steps.push({ kind: 'restoreData', app, backupId: id, leaving: from ?? 'nothing', reason: `restore ${id} (${app} ${version}, ${backup.createdAt})` });
  steps.push({ kind: 'switchRelease', app, from, to: version, reason: `switch to ${version}, the version that made the backup` });
  steps.push(...startSteps(app, version, release, 'roll back otherwise'));
  // Journalled with the rest: a restore recovered after a kill is pinned too, or the next poll would undo it.
  if (pin) steps.push({ kind: 'pinVersion', app, version, reason: `pin ${app} to ${version} in the overlay, so the channel does not move it off the restored version` });
  return {
    kind: 'restore',
    app,
    from,
    to: version,
    trigger: 'restore',
    reason: `duck restore ${id}`,
    steps: steps.sort(byApplyOrder),
    commit: current?.commit ?? commit,
    configHash,
    releaseDigest: releaseDigest(release),
    migrations: release.migrations ?? 'reversible',
  };
}

/**
 * `duck purge`: an orphaned app removed for good — containers and networks, named volumes, then
 * its releases and data. Backups are kept. `version` is what the app last ran (null when unknown:
 * there are no compose files to take the project down with).
 */
export function planPurge(app: string, version: string | null, commit: string): PlannedChange {
  const steps: Step[] = [];
  if (version !== null) steps.push({ kind: 'down', app, version, reason: `remove the containers and networks of ${app} ${version}` });
  steps.push({ kind: 'removeVolumes', app, reason: `remove the named volumes of ${app} (duck purge)` });
  steps.push({ kind: 'removeAppFiles', app, reason: `remove the releases and data of ${app}; its backups are kept` });
  return {
    kind: 'purge',
    app,
    from: version,
    to: null,
    trigger: 'operator',
    reason: 'duck purge',
    steps,
    commit,
    configHash: null,
    releaseDigest: null,
    migrations: 'reversible',
  };
}
