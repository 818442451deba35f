import type { ConsoleRoute } from './routes.js';

/** `GET /api/status`: what `duck status --json` says, the dashboard's one read. */
export function statusRoutes(deps: { status(): Promise<unknown> }): ConsoleRoute[] {
  return [{ method: 'GET', pattern: '/api/status', handle: async (call) => call.send(200, await deps.status()) }];
}
