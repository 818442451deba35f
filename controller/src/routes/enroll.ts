// POST /api/v1/agents/register: the fleet enrollment token and the agent's id and facts in, the
// agent's own token out. Only its sha256 is kept; enrolling an id again replaces the token (the
// old one stops working) and keeps the agent's history.
import type Router from '@koa/router';
import type { AppDeps } from '../deps.js';
import { requireEnroll, type AuthDeps } from '../middleware/auth.js';
import { readValidBody } from '../middleware/body.js';
import { hashToken, newSecret } from '../tokens.js';

const MAX_REGISTER_BYTES = 64 * 1024;
const WHERE = 'POST /api/v1/agents/register';

export function enrollRoutes(router: Router, deps: AppDeps, auth: AuthDeps): void {
  router.post('/api/v1/agents/register', requireEnroll(auth), async (ctx) => {
    const message = await readValidBody(ctx, 'register', MAX_REGISTER_BYTES, WHERE);
    const token = newSecret();
    await deps.store.register(message.agentId, message.facts, hashToken(token), deps.now());
    deps.log({ event: 'enrolled', agentId: message.agentId, group: message.facts.group });
    ctx.status = 201;
    ctx.body = { agentId: message.agentId, token };
  });
}
