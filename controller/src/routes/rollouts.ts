// GET /api/v1/rollouts[?group=&app=&version=]: how far each rollout got (rollout-progress.ts), for
// the dashboard, `duck release gate` and people. Readable with the read-only token. With both group
// and app, each entry carries its timeline from the stored events, read for a bounded number of
// nodes so one request never walks the whole fleet's history.
import type Router from '@koa/router';
import { queryValue, type Query } from '../agent-query.js';
import type { AppDeps } from '../deps.js';
import { agentGroup } from '../fleet-summary.js';
import { HttpError } from '../http-error.js';
import { requireReader, type AuthDeps } from '../middleware/auth.js';
import { inRollout, rolloutProgress, rolloutTimeline, type RolloutFilter, type RolloutProgress, type TimelineEntry } from '../rollout-progress.js';
import type { AgentRecord, StoredEvent } from '../store/fleet-store.js';

/** Nodes whose events make a timeline, and events read from each: enough for a canary group, bounded for a fleet. */
export const TIMELINE_NODES = 200;
export const TIMELINE_EVENTS_PER_NODE = 50;
export const TIMELINE_ENTRIES = 200;
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;

export interface RolloutView extends RolloutProgress {
  /** Nodes that take part: all but the pinned ones. */
  inRollout: number;
  /** Only when the request names the group and the app. */
  timeline?: TimelineEntry[];
  /** The timeline read the events of only the first TIMELINE_NODES nodes. */
  timelineTruncated?: boolean;
}

function parseFilter(query: Query): RolloutFilter {
  const filter: RolloutFilter = {};
  for (const key of ['group', 'app', 'version'] as const) {
    const value = queryValue(query, key);
    if (value !== undefined) filter[key] = value;
  }
  if (filter.version !== undefined && !VERSION.test(filter.version)) {
    throw new HttpError(400, 'invalid', `version "${filter.version}" is not a release version (letters, digits, . + _ -)`, 'version');
  }
  return filter;
}

async function timelineOf(deps: AppDeps, agents: readonly AgentRecord[], p: RolloutProgress): Promise<Pick<RolloutView, 'timeline' | 'timelineTruncated'>> {
  if (p.version === null) return { timeline: [] };
  const nodes = agents.filter((a) => agentGroup(a) === p.group && a.status?.apps.some((x) => x.app === p.app));
  const read = nodes.slice(0, TIMELINE_NODES);
  const events = new Map<string, StoredEvent[]>();
  for (const a of read) events.set(a.agentId, await deps.store.events(a.agentId, TIMELINE_EVENTS_PER_NODE));
  return { timeline: rolloutTimeline(events, p.app, p.version, TIMELINE_ENTRIES), ...(nodes.length > read.length ? { timelineTruncated: true } : {}) };
}

export function rolloutRoutes(router: Router, deps: AppDeps, auth: AuthDeps): void {
  router.get('/api/v1/rollouts', requireReader(auth), async (ctx) => {
    const filter = parseFilter(ctx.query);
    const agents = await deps.store.listAgents();
    const progress = rolloutProgress({ agents, now: deps.now(), offlineAfterMs: deps.settings.offlineAfterMs, filter });
    const one = filter.group !== undefined && filter.app !== undefined;
    const rollouts: RolloutView[] = [];
    for (const p of progress) rollouts.push({ ...p, inRollout: inRollout(p), ...(one ? await timelineOf(deps, agents, p) : {}) });
    ctx.body = { generatedAt: deps.now().toISOString(), rollouts };
  });
}
