// Every failure leaves as `{ error, message, field? }` with its status; anything unexpected is a
// 500 that is logged with the request, and says no more than "internal error" to the client.
import type { Middleware } from 'koa';
import { HttpError } from '../http-error.js';
import type { Log } from '../log.js';

export function errorBodies(log: Log): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.path.startsWith('/api/')) {
        throw new HttpError(404, 'not-found', `no route ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const known = err instanceof HttpError ? err : null;
      if (!known) log({ event: 'request-failed', method: ctx.method, path: ctx.path, error: (err as Error).stack ?? String(err) });
      const failure = known ?? new HttpError(500, 'internal', 'internal error');
      ctx.status = failure.status;
      ctx.body = { error: failure.code, message: failure.message, ...(failure.field !== undefined ? { field: failure.field } : {}) };
      if (failure.status === 401) ctx.set('WWW-Authenticate', 'Bearer');
    }
  };
}
