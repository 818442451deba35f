// createApp(deps): the Koa app with its middleware and routes, never listening (server.ts does).
// API routes first, then the dashboard's static pages, so "/" and its assets come from it.
import Router from '@koa/router';
import Koa from 'koa';
import { serveDashboard } from './dashboard/serve.js';
import type { AppDeps } from './deps.js';
import type { AuthDeps } from './middleware/auth.js';
import { errorBodies } from './middleware/errors.js';
import { hashToken } from './tokens.js';
import { diagnosticsRoutes } from './routes/diagnostics.js';
import { enrollRoutes } from './routes/enroll.js';
import { healthRoutes } from './routes/health.js';
import { announcementRoutes } from './routes/announcements.js';
import { readRoutes } from './routes/read.js';
import { reportRoutes } from './routes/reports.js';
import { rolloutRoutes } from './routes/rollouts.js';
import { sessionRoutes } from './routes/session.js';

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  // Koa would print every error to stderr itself; errorBodies logs what is unexpected, once.
  app.silent = true;
  const auth: AuthDeps = {
    enrollHash: hashToken(deps.settings.enrollToken),
    adminHash: hashToken(deps.settings.adminToken),
    ...(deps.settings.readToken ? { readHash: hashToken(deps.settings.readToken) } : {}),
    store: deps.store,
    sessions: deps.sessions,
  };
  const router = new Router();
  enrollRoutes(router, deps, auth);
  reportRoutes(router, deps, auth);
  diagnosticsRoutes(router, deps, auth);
  readRoutes(router, deps, auth);
  rolloutRoutes(router, deps, auth);
  announcementRoutes(router, deps, auth);
  sessionRoutes(router, deps);
  healthRoutes(router, deps);
  app.use(errorBodies(deps.log));
  app.use(async (ctx, next) => {
    // API answers are about live state: never cached by a browser or a proxy.
    if (ctx.path.startsWith('/api/')) ctx.set('Cache-Control', 'no-store');
    await next();
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use(serveDashboard());
  return app;
}
