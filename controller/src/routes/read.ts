// The read API for people (admin token or dashboard session) and CI (the read-only token): the
// fleet summary, agents with filters, and one agent with its history and diagnostics.
import type Router from '@koa/router';
import { byHostnameThenId, matchesFilter, parseAgentFilter, toAgentSummary } from '../agent-query.js';
import type { AppDeps } from '../deps.js';
import { summarizeFleet, type FleetSummary } from '../fleet-summary.js';
import { HttpError } from '../http-error.js';
import { requireReader, type AuthDeps } from '../middleware/auth.js';
import type { AgentRecord } from '../store/fleet-store.js';

export const MAX_AGENT_EVENTS = 500;
const RECENT_FAILURES = 50;

/** The fleet overview; `agents` when the caller listed them already (/metrics reads them twice otherwise). */
export async function fleetSummary(deps: AppDeps, listed?: readonly AgentRecord[]): Promise<FleetSummary> {
  const [agents, outcomes, recentFailures, alerts] = await Promise.all([
    listed ?? deps.store.listAgents(),
    deps.store.outcomes(),
    deps.store.recentFailures(RECENT_FAILURES),
    deps.store.alerts(),
  ]);
  return summarizeFleet({ agents, outcomes, recentFailures, alerts, now: deps.now(), offlineAfterMs: deps.settings.offlineAfterMs });
}

export function readRoutes(router: Router, deps: AppDeps, auth: AuthDeps): void {
  const reader = requireReader(auth);

  router.get('/api/v1/fleet', reader, async (ctx) => {
    ctx.body = await fleetSummary(deps);
  });

  router.get('/api/v1/agents', reader, async (ctx) => {
    const filter = parseAgentFilter(ctx.query);
    if ('error' in filter) throw new HttpError(400, 'invalid', filter.error, filter.field);
    const nowMs = deps.now().getTime();
    const agents = [];
    for (const record of await deps.store.listAgents()) {
      const summary = toAgentSummary(record, nowMs, deps.settings.offlineAfterMs);
      if (matchesFilter(summary, filter)) agents.push(summary);
    }
    ctx.body = { agents: agents.sort(byHostnameThenId) };
  });

  router.get('/api/v1/agents/:id', reader, async (ctx) => {
    const id = ctx.params.id ?? '';
    const record = await deps.store.getAgent(id);
    if (!record) throw new HttpError(404, 'not-found', `no agent ${id}`);
    const [events, diagnostics] = await Promise.all([deps.store.events(id, MAX_AGENT_EVENTS), deps.store.diagnostics(id)]);
    ctx.body = { agent: toAgentSummary(record, deps.now().getTime(), deps.settings.offlineAfterMs), events, diagnostics };
  });
}
