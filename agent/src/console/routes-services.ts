import { DuckError } from '../../../schemas/errors.js';
import { openEventStream } from './event-stream.js';
import type { EventStream } from './event-stream.js';
import type { ConsoleRoute } from './routes.js';

/** The most lines per container a log page may ask for at its start: the page keeps 5000 in all. */
export const MAX_TAIL = 5000;
export const DEFAULT_TAIL = 200;
/** Log pages open at once: each is a compose process on the node, so a forgotten tab's reloads cannot pile them up. */
export const MAX_LOG_STREAMS = 8;

export interface LogFollowDeps {
  lines(lines: readonly string[]): void;
  end(reason: string): void;
}

export interface ServiceDeps {
  /** Per installed app its containers' state and health, as `duck ps` reads them. */
  services(): Promise<unknown>;
  /** Follows an app's logs; throws DuckError 'not-found' for an app the node does not run. */
  follow(app: string, tail: number, sink: LogFollowDeps): Promise<{ stop(): void }>;
}

/** Pure: `?tail=` as a count of lines, checked (the page is not trusted more than a CLI flag). */
export function tailOf(query: URLSearchParams): number {
  const raw = query.get('tail');
  if (raw === null || raw === '') return DEFAULT_TAIL;
  if (!/^\d+$/.test(raw) || Number(raw) > MAX_TAIL) throw new DuckError('usage', `tail must be a whole number of lines from 0 to ${MAX_TAIL}, got "${raw}"`, { field: 'tail' });
  return Number(raw);
}

function ended(stream: EventStream, reason: string): void {
  stream.send('end', { reason });
  stream.end();
}

/**
 * `GET /api/services`: the apps' containers. `GET /api/apps/:app/logs/stream`: the app's logs as
 * server-sent events (`lines`: a batch of lines; `end`: the follow ended by itself, with why). The
 * follow lives exactly as long as the request: a page that leaves closes it, and so the child.
 */
export function serviceRoutes(deps: ServiceDeps): ConsoleRoute[] {
  let open = 0;
  return [
    { method: 'GET', pattern: '/api/services', handle: async (call) => call.send(200, { apps: await deps.services() }) },
    {
      method: 'GET',
      pattern: '/api/apps/:app/logs/stream',
      handle: async (call) => {
        const tail = tailOf(call.query);
        if (open >= MAX_LOG_STREAMS) throw new DuckError('locked', `${MAX_LOG_STREAMS} log pages are open already: close one first`);
        // Before any header: an unknown app or a compose that cannot start is a plain JSON error.
        let stream: EventStream | null = null;
        const early: string[][] = [];
        let endedEarly: string | null = null;
        open++;
        let follow: { stop(): void };
        try {
          follow = await deps.follow(call.params.app!, tail, {
            lines: (lines) => (stream ? stream.send('lines', lines) : early.push([...lines])),
            end: (reason) => {
              if (!stream) endedEarly = reason;
              else ended(stream, reason);
            },
          });
        } catch (err) {
          open--;
          throw err;
        }
        stream = openEventStream(call.res);
        for (const lines of early) stream.send('lines', lines);
        stream.onClose(() => {
          open--;
          follow.stop();
        });
        if (endedEarly !== null) ended(stream, endedEarly);
      },
    },
  ];
}
