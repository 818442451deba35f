// POST /api/v1/agents/register: the agent's id and facts in, the agent's own token out. Only its
// sha256 is kept; enrolling an id again replaces the token (the old one stops working) and keeps
// the agent's history. Who may enroll which id:
//   - the fleet enrollment token: an id not enrolled yet (or released by an operator). It is on
//     every node, so it must not be able to take over an enrolled id and lock the real agent out:
//     409 for one that is;
//   - an agent's own current token: its own id again (a new token; the old one stops);
//   - the admin token: any id.
// DELETE /api/v1/agents/:id/token (admin) releases an id: its token stops, and the fleet token
// may enroll it again — the way back for a node that lost its state and with it its token.
import type Router from '@koa/router';
import type { AppDeps } from '../deps.js';
import { HttpError } from '../http-error.js';
import { requireAdmin, requireEnroller, type AuthDeps, type EnrollerAuthState } from '../middleware/auth.js';
import { readValidBody } from '../middleware/body.js';
import { hashToken, newSecret } from '../tokens.js';

const MAX_REGISTER_BYTES = 64 * 1024;
const WHERE = 'POST /api/v1/agents/register';

export function enrollRoutes(router: Router, deps: AppDeps, auth: AuthDeps): void {
  router.post('/api/v1/agents/register', requireEnroller(auth), async (ctx) => {
    const message = await readValidBody(ctx, 'register', MAX_REGISTER_BYTES, WHERE);
    const { enroller } = ctx.state as EnrollerAuthState;
    if (enroller.kind === 'agent' && enroller.agentId !== message.agentId) {
      throw new HttpError(403, 'forbidden', `this token belongs to agent ${enroller.agentId}, which may enroll only itself, not ${message.agentId}`, '/agentId');
    }
    const token = newSecret();
    const record = await deps.store.register(message.agentId, message.facts, hashToken(token), deps.now(), { onlyNew: enroller.kind === 'enroll' });
    if (record === null) {
      throw new HttpError(
        409,
        'conflict',
        `agent ${message.agentId} is already enrolled: enrolling it again needs its own current token or the admin token, not the fleet enrollment token ` +
          `(an operator can release the id with DELETE /api/v1/agents/${encodeURIComponent(message.agentId)}/token)`,
        '/agentId',
      );
    }
    deps.log({ event: 'enrolled', agentId: message.agentId, group: message.facts.group, by: enroller.kind });
    ctx.status = 201;
    ctx.body = { agentId: message.agentId, token };
  });

  router.delete('/api/v1/agents/:id/token', requireAdmin(auth), async (ctx) => {
    const id = ctx.params.id ?? '';
    if (!(await deps.store.releaseEnrollment(id))) throw new HttpError(404, 'not-found', `no agent ${id}`);
    deps.log({ event: 'enrollment-released', agentId: id });
    ctx.status = 204;
  });
}
