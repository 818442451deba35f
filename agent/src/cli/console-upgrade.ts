import { DuckError } from '../../../schemas/errors.js';
import type { ConsoleRoute } from '../console/routes.js';
import type { UpgradeOffer } from '../console/routes-upgrade.js';
import { upgradeRoutes } from '../console/routes-upgrade.js';
import { decide, readAcceptedLocally } from '../node/decisions.js';
import type { NodeParts } from '../node/wiring.js';

/**
 * The console's upgrade confirmation, read as `duck upgrade` reads it before it asks: the accepted
 * channel resolved with this app to move now (windows and approval aside), and its release notes.
 */
export async function upgradeOffer(node: NodeParts, app: string): Promise<UpgradeOffer> {
  const view = await readAcceptedLocally(node);
  if (!view) throw new DuckError('not-found', 'no channel commit has been accepted yet (duck verify)');
  const { desired } = await decide(node, view, { upgradeNow: new Set([app]) });
  const a = desired.apps.find((x) => x.app === app);
  if (!a) throw new DuckError('not-found', `no app "${app}" in this node's group or overlay`, { field: 'app' });
  const moves = a.decision === 'apply' && a.desired !== null && a.desired !== a.current;
  return {
    app,
    current: a.current ?? null,
    target: a.desired ?? null,
    decision: moves ? 'apply' : 'wait',
    reason: moves ? null : (a.reason ?? `${app} runs ${a.current ?? 'nothing'}: nothing to upgrade`),
    notes: a.release?.notes ?? null,
  };
}

/** The upgrade page's routes wired to this node. */
export function upgradeConsoleRoutes(node: NodeParts): ConsoleRoute[] {
  return upgradeRoutes({ offer: (app) => upgradeOffer(node, app) });
}
