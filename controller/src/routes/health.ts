// Unauthenticated: /metrics (counts only, no hostnames or ids) and /healthz for probes.
import type Router from '@koa/router';
import type { AppDeps } from '../deps.js';
import { rolloutProgress } from '../rollout-progress.js';
import { fleetSummary } from './read.js';

export function healthRoutes(router: Router, deps: AppDeps): void {
  router.get('/metrics', async (ctx) => {
    const agents = await deps.store.listAgents();
    const rollouts = rolloutProgress({ agents, now: deps.now(), offlineAfterMs: deps.settings.offlineAfterMs });
    const text = await deps.metrics.render(await fleetSummary(deps, agents), rollouts);
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = text;
  });

  router.get('/healthz', (ctx) => {
    const ok = deps.store.healthy();
    ctx.status = ok ? 200 : 503;
    ctx.body = ok ? { ok: true } : { ok: false, error: 'unavailable', message: `the store cannot write (${deps.store.location})` };
  });
}
