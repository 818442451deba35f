// The controller's read API as the page uses it. The session is an HttpOnly cookie the page never
// sees: a 401 anywhere means "sign in again".

export class SignedOut extends Error {
  constructor() {
    super('signed out');
    this.name = 'SignedOut';
  }
}

export class NotFound extends Error {
  constructor(path) {
    super(`not found: ${path}`);
    this.name = 'NotFound';
  }
}

async function getJson(path) {
  const res = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (res.status === 401) throw new SignedOut();
  if (res.status === 404) throw new NotFound(path);
  if (!res.ok) throw new Error(`${path} answered ${res.status} ${res.statusText}`);
  return res.json();
}

export function fleet() {
  return getJson('/api/v1/fleet');
}

/**
 * The first `pages` pages of the agents (GET /api/v1/agents is paged by agent id), as one list:
 * { agents, total, next }, `next` non-null while the fleet has more. filters: { group, app,
 * version, state }, empty values left out.
 */
export async function agents(filters, pages = 1) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
  const all = [];
  let page = { total: 0, next: null };
  for (let i = 0; i < pages; i++) {
    if (page.next !== null) query.set('after', page.next);
    page = await getJson(`/api/v1/agents?${query}`);
    all.push(...page.agents);
    if (page.next === null) break;
  }
  return { agents: all, total: page.total, next: page.next };
}

/** Rollout progress; with both group and app, the rollout's timeline too. */
export function rollouts(filters = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
  const qs = query.toString();
  return getJson(`/api/v1/rollouts${qs ? `?${qs}` : ''}`);
}

export function agent(agentId) {
  return getJson(`/api/v1/agents/${encodeURIComponent(agentId)}`);
}

export function diagnosticsHref(diagnosticsId) {
  return `/api/v1/diagnostics/${encodeURIComponent(diagnosticsId)}`;
}

/** 'ok' when the token opened a session, 'refused' when the controller said no. */
export async function signIn(token) {
  const res = await fetch('/api/v1/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (res.ok) return 'ok';
  // 400 is an empty or malformed token: to the person typing it, the same as a wrong one.
  if (res.status === 400 || res.status === 401 || res.status === 403) return 'refused';
  throw new Error(`signing in failed: ${res.status} ${res.statusText}`);
}

export async function signOut() {
  await fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin' });
}

/** Per channel announcement: nodes that have it in force (seen) and that acknowledged it. */
export function announcements() {
  return getJson('/api/v1/announcements');
}
