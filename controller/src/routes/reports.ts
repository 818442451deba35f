// POST /api/v1/reports: an agent's status and events. Answered only once the report is durable
// (the store's group commit); events already seen by id are counted as duplicates, not again.
import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { AppDeps } from '../deps.js';
import { HttpError } from '../http-error.js';
import { requireAgent, type AgentAuthState, type AuthDeps } from '../middleware/auth.js';
import { readValidBody } from '../middleware/body.js';
import type { RejectionReason } from '../metrics.js';

const WHERE = 'POST /api/v1/reports';

const REASONS: Partial<Record<HttpError['code'], RejectionReason>> = {
  unauthenticated: 'unauthenticated',
  forbidden: 'forbidden',
  'too-large': 'too-large',
  'malformed-json': 'malformed-json',
  invalid: 'invalid',
  'unsupported-media-type': 'invalid',
};

function countRejections(deps: AppDeps): Middleware {
  return async (_ctx, next) => {
    try {
      await next();
    } catch (err) {
      const reason = err instanceof HttpError ? REASONS[err.code] : undefined;
      if (reason) deps.metrics.rejected(reason);
      throw err;
    }
  };
}

export function reportRoutes(router: Router, deps: AppDeps, auth: AuthDeps): void {
  router.post('/api/v1/reports', countRejections(deps), requireAgent(auth), async (ctx) => {
    const report = await readValidBody(ctx, 'report', deps.settings.maxReportBytes, WHERE);
    const { agentId } = ctx.state as AgentAuthState;
    if (report.agentId !== agentId) {
      throw new HttpError(403, 'forbidden', `this token belongs to agent ${agentId}, not ${report.agentId}`, '/agentId');
    }
    const now = deps.now();
    const result = await deps.store.recordReport(report, now);
    deps.metrics.reports.inc();
    const accepted = new Set(result.acceptedIds);
    for (const event of report.events) if (accepted.has(event.id)) deps.metrics.events.inc({ type: event.type });
    if (result.touched.length > 0) void deps.alerts.evaluate(result.touched, now);
    ctx.body = { accepted: result.accepted, duplicates: result.duplicates };
  });
}
