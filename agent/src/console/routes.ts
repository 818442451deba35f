import type { IncomingMessage, ServerResponse } from 'node:http';

/** One API route: `pattern` is a path with `:name` segments (`/api/apps/:app/start`). */
export interface ConsoleRoute {
  readonly method: 'GET' | 'POST';
  readonly pattern: string;
  handle(call: RouteCall): Promise<void>;
}

/** What a route handler gets: the request, its decoded path parameters, and ways to answer. */
export interface RouteCall {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The JSON body (at most the server's body limit); a body that is not JSON is a 400. */
  json(): Promise<unknown>;
  send(status: number, body: unknown): void;
}

/** Pure: the route for `method` and `path`, with its parameters, or null. */
export function matchRoute(routes: readonly ConsoleRoute[], method: string, path: string): { route: ConsoleRoute; params: Record<string, string> } | null {
  const parts = path.split('/');
  for (const route of routes) {
    if (route.method !== method) continue;
    const want = route.pattern.split('/');
    if (want.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < want.length && ok; i++) {
      const w = want[i]!;
      const p = parts[i]!;
      if (w.startsWith(':')) {
        let value: string;
        try {
          value = decodeURIComponent(p);
        } catch {
          value = '';
        }
        if (value === '') ok = false;
        else params[w.slice(1)] = value;
      } else if (w !== p) ok = false;
    }
    if (ok) return { route, params };
  }
  return null;
}
