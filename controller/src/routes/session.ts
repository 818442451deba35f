// Dashboard login: the admin token once, in a JSON body, for a random session id (kept where the
// store keeps sessions, so every controller on the store knows it) in an HttpOnly,
// SameSite=Strict cookie (so other sites cannot ride it and page scripts cannot read it).
import type Router from '@koa/router';
import type { AppDeps } from '../deps.js';
import { HttpError } from '../http-error.js';
import { readJsonBody } from '../middleware/body.js';
import { SESSION_COOKIE } from '../sessions.js';
import { sameSecret } from '../tokens.js';

const MAX_SESSION_BODY = 4096;

export function sessionRoutes(router: Router, deps: AppDeps): void {
  router.post('/api/v1/session', async (ctx) => {
    const body = await readJsonBody(ctx, MAX_SESSION_BODY);
    const token = typeof body === 'object' && body !== null ? (body as { token?: unknown }).token : undefined;
    if (typeof token !== 'string' || token === '') throw new HttpError(400, 'invalid', 'the body must be { "token": <admin token> }', '/token');
    if (!sameSecret(token, deps.settings.adminToken)) throw new HttpError(403, 'forbidden', 'that is not the admin token', '/token');
    const id = await deps.sessions.create();
    ctx.cookies.set(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'strict', path: '/', maxAge: deps.sessions.ttlMs, overwrite: true });
    ctx.status = 204;
  });

  router.delete('/api/v1/session', async (ctx) => {
    await deps.sessions.delete(ctx.cookies.get(SESSION_COOKIE));
    ctx.cookies.set(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'strict', path: '/', maxAge: 0, overwrite: true });
    ctx.status = 204;
  });
}
