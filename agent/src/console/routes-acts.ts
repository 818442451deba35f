import { DuckError } from '../../../schemas/errors.js';
import type { OperatorRequest, RequestResult } from '../core/operator-request.js';
import type { ProgressRecord } from '../core/request-progress.js';
import { ActRuns } from './act-runs.js';
import type { ConsoleRoute, RouteCall } from './routes.js';

/**
 * The operator's acts a page may ask for. A purge (it deletes an app's data) and an enrollment stay
 * with the CLI: a page is one click from a mistake a terminal command is not.
 */
const PAGE_ACTS = ['fetch', 'upgrade', 'retry', 'start', 'stop', 'restart', 'backup', 'restore'] as const;
type PageAct = (typeof PAGE_ACTS)[number];

export interface ActDeps {
  /**
   * Carries the request out through the one writer (this process, or handed to duck run), passing
   * on its step records when `onProgress` is given.
   */
  perform(request: OperatorRequest, onProgress?: (record: ProgressRecord) => void): Promise<RequestResult>;
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

/**
 * `POST /api/acts`: one operator act, answered with what the CLI would print and its changes; with
 * `?follow=1`, answered 202 `{ id }` at once, its steps and result then streamed by
 * `GET /api/acts/:id/events` (server-sent events: `step`, then one `done`).
 */
export function actRoutes(deps: ActDeps): ConsoleRoute[] {
  const runs = new ActRuns();
  return [
    {
      method: 'POST',
      pattern: '/api/acts',
      handle: async (call) => {
        const request = pageRequest(await call.json());
        if (call.query.get('follow') === '1') {
          call.send(202, { ok: true, id: runs.start((onProgress) => deps.perform(request, onProgress)) });
          return;
        }
        call.send(200, await deps.perform(request));
      },
    },
    { method: 'GET', pattern: '/api/acts/:id/events', handle: async (call) => streamRun(runs, call) },
  ];
}

/**
 * The run's records as server-sent events, each with its index as the event id: a browser that
 * reconnects sends `Last-Event-ID` and hears only what it missed.
 */
function streamRun(runs: ActRuns, call: RouteCall): void {
  const lastSeen = Number.parseInt(String(call.req.headers['last-event-id'] ?? ''), 10);
  const from = Number.isSafeInteger(lastSeen) && lastSeen >= 0 ? lastSeen + 1 : 0;
  const { res } = call;
  const write = (type: string, data: unknown, id?: number): void => {
    res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  let started = false;
  const start = (): void => {
    if (started) return;
    started = true;
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' });
  };
  const stop = runs.follow(
    call.params.id!,
    {
      step: (record, index) => {
        start();
        write('step', record, index);
      },
      done: (result) => {
        start();
        write('done', result);
        res.end();
      },
    },
    from,
  );
  if (!stop) throw new DuckError('not-found', `no act ${call.params.id} is followed here (the console keeps the last few)`);
  start();
  call.req.once('close', stop);
}
