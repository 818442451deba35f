// The read API for people (admin token or dashboard session) and CI (the read-only token): the
// fleet summary, agents with filters a page at a time (keyset by agent id, so a page costs the same
// at any depth and fleet size), and one agent with its history and diagnostics.
import type Router from '@koa/router';
import { matchesFilter, parseAgentFilter, parseAgentPage, toAgentSummary, type AgentSummary } from '../agent-query.js';
import type { AppDeps } from '../deps.js';
import { summarizeFleet, type FleetSummary } from '../fleet-summary.js';
import { HttpError } from '../http-error.js';
import { RefreshingValue } from '../refreshing-value.js';
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

  const summary = new RefreshingValue(
    () => fleetSummary(deps),
    deps.settings.summaryMaxAgeMs,
    () => deps.now().getTime(),
    (err) => deps.log({ event: 'summary-failed', error: (err as Error).message }),
  );
  router.get('/api/v1/fleet', reader, async (ctx) => {
    ctx.body = await summary.get();
  });

  router.get('/api/v1/agents', reader, async (ctx) => {
    const filter = parseAgentFilter(ctx.query);
    if ('error' in filter) throw new HttpError(400, 'invalid', filter.error, filter.field);
    const page = parseAgentPage(ctx.query);
    if ('error' in page) throw new HttpError(400, 'invalid', page.error, page.field);
    const nowMs = deps.now().getTime();
    const agents: AgentSummary[] = [];
    // With filters, store pages are read until this page is full or the fleet ends. Each read asks
    // one more agent than a page, to tell whether the fleet goes on; `next` is the last id consumed.
    let after = page.after;
    let next: string | null = null;
    let total = 0;
    for (;;) {
      const chunk = await deps.store.listAgentsPage(after, page.limit + 1);
      total = chunk.total;
      let used = 0;
      for (; used < chunk.agents.length && agents.length < page.limit; used++) {
        const summary = toAgentSummary(chunk.agents[used]!, nowMs, deps.settings.offlineAfterMs);
        if (matchesFilter(summary, filter)) agents.push(summary);
      }
      if (agents.length === page.limit) {
        if (used < chunk.agents.length || chunk.agents.length > page.limit) next = chunk.agents[used - 1]!.agentId;
        break;
      }
      if (chunk.agents.length <= page.limit) break;
      after = chunk.agents.at(-1)!.agentId;
    }
    ctx.body = { agents, total, next };
  });

  router.get('/api/v1/agents/:id', reader, async (ctx) => {
    const id = ctx.params.id ?? '';
    const record = await deps.store.getAgent(id);
    if (!record) throw new HttpError(404, 'not-found', `no agent ${id}`);
    const [events, diagnostics] = await Promise.all([deps.store.events(id, MAX_AGENT_EVENTS), deps.store.diagnostics(id)]);
    ctx.body = { agent: toAgentSummary(record, deps.now().getTime(), deps.settings.offlineAfterMs), events, diagnostics };
  });
}
