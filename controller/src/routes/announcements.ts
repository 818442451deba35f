// GET /api/v1/announcements: per channel announcement, how many nodes have it in force and how many
// acknowledged it (DESIGN §4.10), folded from each agent's latest status — both stores keep it whole.
// Readable with the read-only token or a dashboard session, like the other read routes.
import type Router from '@koa/router';
import { announcementCounts } from '../announcement-counts.js';
import type { AppDeps } from '../deps.js';
import { requireReader, type AuthDeps } from '../middleware/auth.js';
import { RefreshingValue } from '../refreshing-value.js';

export function announcementRoutes(router: Router, deps: AppDeps, auth: AuthDeps): void {
  // A fold over every agent, as the fleet summary is: as fresh as the summary may be old.
  const counts = new RefreshingValue(
    async () => ({ generatedAt: deps.now().toISOString(), announcements: announcementCounts(await deps.store.listAgents()) }),
    deps.settings.summaryMaxAgeMs,
    () => deps.now().getTime(),
    (err) => deps.log({ event: 'announcements-failed', error: (err as Error).message }),
  );
  router.get('/api/v1/announcements', requireReader(auth), async (ctx) => {
    ctx.body = await counts.get();
  });
}
