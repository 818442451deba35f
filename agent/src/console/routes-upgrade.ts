import type { ConsoleRoute } from './routes.js';

/** What the upgrade page shows before the operator confirms: as `duck upgrade` prints it. */
export interface UpgradeOffer {
  readonly app: string;
  /** What runs (null: not installed). */
  readonly current: string | null;
  /** What the accepted channel asks for now, outside windows and approval (null: nothing). */
  readonly target: string | null;
  /** `apply`: Confirm would move it; `wait`: it would not, for `reason` (pinned, failed, held...). */
  readonly decision: string;
  readonly reason: string | null;
  /** The target release's notes from the accepted channel (release.yaml `notes`), as written. */
  readonly notes: string | null;
}

export interface UpgradeDeps {
  offer(app: string): Promise<UpgradeOffer>;
}

/** `GET /api/upgrades/:app`: the versions and the release notes the confirmation shows. */
export function upgradeRoutes(deps: UpgradeDeps): ConsoleRoute[] {
  return [
    {
      method: 'GET',
      pattern: '/api/upgrades/:app',
      handle: async (call) => call.send(200, { ok: true, ...(await deps.offer(call.params.app!)) }),
    },
  ];
}
