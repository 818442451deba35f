import { hostHeader, isLoopback } from './listen.js';

export const SESSION_COOKIE = 'duck_console';

/** Pure: the `Host` values this server answers to, from its listen address. */
export function allowedHosts(host: string, port: number): ReadonlySet<string> {
  const hosts = new Set([hostHeader(host, port)]);
  // A browser on the node may say localhost for loopback; a name that resolves elsewhere may not.
  if (isLoopback(host)) hosts.add(`localhost:${port}`);
  return hosts;
}

export type Refusal = { readonly status: number; readonly message: string } | null;

/**
 * Pure: the checks every request passes before any route. A foreign `Host` is a DNS-rebinding
 * page speaking to 127.0.0.1 under its own name; a foreign `Origin` on anything but a read is
 * another site's form or script (CSRF). SameSite=Strict already keeps the cookie off such
 * requests: the Origin check is the second lock, for browsers that get that wrong.
 */
export function checkRequest(req: { method: string; host: string | undefined; origin: string | undefined }, hosts: ReadonlySet<string>, scheme: 'http' | 'https'): Refusal {
  if (req.host === undefined || !hosts.has(req.host.toLowerCase())) return { status: 421, message: `this console answers to ${[...hosts].join(' or ')} only` };
  const reads = req.method === 'GET' || req.method === 'HEAD';
  if (!reads && req.origin !== `${scheme}://${req.host.toLowerCase()}`) return { status: 403, message: 'cross-origin request refused' };
  return null;
}

/** Pure: one cookie's value from a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(id: string, secure: boolean, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}
