import type { ConsoleRoute } from './routes.js';

/** One backup as `duck backups --json` lists it: the version is the one whose data it holds. */
export interface BackupRow {
  readonly id: string;
  readonly app: string;
  readonly version: string;
  readonly createdAt: string;
  readonly bytes: number;
  readonly reason: string;
}

/** What the backups page shows: every installed app (each may be backed up), and the store's contents. */
export interface BackupsView {
  readonly dir: string;
  readonly apps: readonly string[];
  readonly backups: readonly BackupRow[];
  readonly broken: readonly { readonly id: string; readonly problem: string }[];
  readonly partial: { readonly count: number; readonly bytes: number };
}

export interface BackupDeps {
  /** Read from the backup store on disk at each call: a backup the daemon just took is listed. */
  backups(): Promise<BackupsView>;
}

/** Pure: per app (installed ones first, in name order, then apps only backups remember), its backups newest first. */
export function backupsByApp(view: BackupsView): { app: string; backups: BackupRow[] }[] {
  const names = [...new Set([...[...view.apps].sort(), ...view.backups.map((b) => b.app).sort()])];
  return names.map((app) => ({
    app,
    backups: view.backups.filter((b) => b.app === app).sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id)),
  }));
}

/**
 * `GET /api/backups`: the backup store as `duck backups` reads it, grouped by app. Creating and
 * restoring are operator acts (`POST /api/acts`): the restore's checks are the act's own.
 */
export function backupRoutes(deps: BackupDeps): ConsoleRoute[] {
  return [
    {
      method: 'GET',
      pattern: '/api/backups',
      handle: async (call) => {
        const view = await deps.backups();
        call.send(200, { dir: view.dir, apps: backupsByApp(view), broken: view.broken, partial: view.partial });
      },
    },
  ];
}
