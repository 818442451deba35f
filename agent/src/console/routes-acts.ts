import { DuckError } from '../../../schemas/errors.js';
import type { OperatorRequest, RequestResult } from '../core/operator-request.js';
import type { ConsoleRoute } from './routes.js';

/**
 * The operator's acts a page may ask for. A purge (it deletes an app's data) and an enrollment stay
 * with the CLI: a page is one click from a mistake a terminal command is not.
 */
const PAGE_ACTS = ['fetch', 'upgrade', 'retry', 'start', 'stop', 'restart', 'backup', 'restore'] as const;
type PageAct = (typeof PAGE_ACTS)[number];

export interface ActDeps {
  /** Carries the request out through the one writer (this process, or handed to duck run). */
  perform(request: OperatorRequest): Promise<RequestResult>;
}

/** Pure: the request a page's JSON asks for, checked field by field (the page is not trusted more than a CLI flag). */
export function pageRequest(body: unknown): OperatorRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  const kind = b.kind;
  if (typeof kind !== 'string' || !(PAGE_ACTS as readonly string[]).includes(kind)) throw new DuckError('usage', `kind must be one of ${PAGE_ACTS.join(', ')}`, { field: 'kind' });
  const text = (field: string): string => {
    const v = b[field];
    if (typeof v !== 'string' || v === '') throw new DuckError('usage', `${field} must be a non-empty string`, { field });
    return v;
  };
  switch (kind as PageAct) {
    case 'fetch':
      return { kind: 'fetch' };
    case 'upgrade': {
      const apps = b.apps === null || b.apps === undefined ? null : b.apps;
      if (apps !== null && (!Array.isArray(apps) || !apps.every((a) => typeof a === 'string' && a !== ''))) throw new DuckError('usage', 'apps must be a list of app names or null', { field: 'apps' });
      const targets = b.targets ?? {};
      if (typeof targets !== 'object' || targets === null || Array.isArray(targets) || !Object.values(targets).every((v) => typeof v === 'string')) {
        throw new DuckError('usage', 'targets must map app names to the versions the page showed', { field: 'targets' });
      }
      return { kind: 'upgrade', apps: apps as string[] | null, targets: targets as Record<string, string>, force: false };
    }
    case 'retry':
    case 'start':
    case 'stop':
    case 'restart':
    case 'backup':
      return { kind, app: text('app') } as OperatorRequest;
    case 'restore':
      return { kind: 'restore', backupId: text('backupId') };
  }
}

/** `POST /api/acts`: one operator act, answered with what the CLI would print and its changes. */
export function actRoutes(deps: ActDeps): ConsoleRoute[] {
  return [
    {
      method: 'POST',
      pattern: '/api/acts',
      handle: async (call) => {
        const result = await deps.perform(pageRequest(await call.json()));
        call.send(200, result);
      },
    },
  ];
}
