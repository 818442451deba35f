import { DuckError } from '../../../schemas/errors.js';
import type { ConsoleRoute } from './routes.js';

/** The most the page asks for at once; `duck history --limit` has no cap, the state keeps a few hundred. */
export const HISTORY_PAGE_MAX = 500;
const HISTORY_PAGE_DEFAULT = 100;

export interface HistoryDeps {
  /** The state's history as the writer left it, oldest first (what `duck history` reads). */
  history(): Promise<readonly { readonly app: string }[]>;
}

/** Pure: `?app=&limit=` checked (a bad limit names the field), the entries newest first. */
export function historyPage<T extends { readonly app: string }>(entries: readonly T[], query: URLSearchParams): { history: T[]; total: number } {
  const app = query.get('app') || null;
  const limitText = query.get('limit');
  const limit = limitText === null || limitText === '' ? HISTORY_PAGE_DEFAULT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > HISTORY_PAGE_MAX) {
    throw new DuckError('usage', `limit must be a whole number from 1 to ${HISTORY_PAGE_MAX}, not ${JSON.stringify(limitText)}`, { field: 'limit' });
  }
  const mine = entries.filter((h) => app === null || h.app === app);
  return { history: mine.slice(-limit).reverse(), total: mine.length };
}

/** `GET /api/history`: the node's recent changes and events, newest first, with outcome and reason. */
export function historyRoutes(deps: HistoryDeps): ConsoleRoute[] {
  return [{ method: 'GET', pattern: '/api/history', handle: async (call) => call.send(200, historyPage(await deps.history(), call.query)) }];
}
