// Who is calling, from `Authorization: Bearer <token>` (or the dashboard's session cookie), and
// whether that fits the route: no credentials → 401, credentials of another kind → 403. The
// read-only token reads what the admin token reads on GET routes (requireReader) and nothing else:
// a CI job that only watches a rollout cannot release an enrollment or pose as an agent.
import type { Context, Middleware } from 'koa';
import { HttpError } from '../http-error.js';
import { SESSION_COOKIE, type SessionStore } from '../sessions.js';
import type { FleetStore } from '../store/fleet-store.js';
import { hashToken, sameDigest } from '../tokens.js';

export type Caller = { kind: 'admin' } | { kind: 'reader' } | { kind: 'enroll' } | { kind: 'agent'; agentId: string } | { kind: 'unknown' };

export interface AuthDeps {
  /** hashToken() of the fleet enrollment token and of the admin token. */
  enrollHash: string;
  adminHash: string;
  /** hashToken() of the read-only token, when the operator set one. */
  readHash?: string;
  store: FleetStore;
  sessions: SessionStore;
}

export interface AgentAuthState {
  agentId: string;
}

export function bearerToken(ctx: Context): string | undefined {
  const header = ctx.get('Authorization');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Null when the request carries no credentials at all (no bearer token, no live session). */
async function identify(ctx: Context, deps: AuthDeps, allowSession: boolean): Promise<Caller | null> {
  const token = bearerToken(ctx);
  if (token === undefined) {
    // An expired or logged-out session is no credential at all (401): the dashboard asks to log in.
    return allowSession && (await deps.sessions.valid(ctx.cookies.get(SESSION_COOKIE))) ? { kind: 'admin' } : null;
  }
  const hash = hashToken(token);
  // Both comparisons always run, so the timing does not say which kind a guess came close to.
  const admin = sameDigest(hash, deps.adminHash);
  const enroll = sameDigest(hash, deps.enrollHash);
  const reader = deps.readHash !== undefined && sameDigest(hash, deps.readHash);
  if (admin) return { kind: 'admin' };
  if (enroll) return { kind: 'enroll' };
  if (reader) return { kind: 'reader' };
  // Agent tokens are found by their sha256: the lookup's timing can tell nothing of the token itself.
  const agentId = await deps.store.agentIdForTokenHash(hash);
  return agentId === null ? { kind: 'unknown' } : { kind: 'agent', agentId };
}

function refuse(caller: Caller | null, wanted: string): never {
  if (caller === null) throw new HttpError(401, 'unauthenticated', `this route needs ${wanted} (Authorization: Bearer <token>)`);
  if (caller.kind === 'reader') throw new HttpError(403, 'forbidden', `the read-only token may only read (GET routes of the admin API); this route needs ${wanted}`);
  throw new HttpError(403, 'forbidden', `this route needs ${wanted}; the credentials given are not one`);
}

export function requireAdmin(deps: AuthDeps): Middleware {
  return async (ctx, next) => {
    const caller = await identify(ctx, deps, true);
    if (caller?.kind !== 'admin') refuse(caller, 'the admin token or a dashboard session');
    await next();
  };
}

/** The GET routes of the admin API: the admin token, a dashboard session, or the read-only token. */
export function requireReader(deps: AuthDeps): Middleware {
  return async (ctx, next) => {
    const caller = await identify(ctx, deps, true);
    if (caller?.kind !== 'admin' && caller?.kind !== 'reader') refuse(caller, 'the admin token, a dashboard session or the read-only token');
    if (caller.kind === 'reader' && ctx.method !== 'GET' && ctx.method !== 'HEAD') refuse(caller, 'the admin token');
    await next();
  };
}

export interface EnrollerAuthState {
  enroller: Extract<Caller, { kind: 'enroll' | 'admin' | 'agent' }>;
}

/**
 * Enrollment: the fleet token, the admin token, or an agent's own token (to enroll its id again);
 * ctx.state.enroller says which, for the route's rule on ids already enrolled.
 */
export function requireEnroller(deps: AuthDeps): Middleware {
  return async (ctx, next) => {
    const caller = await identify(ctx, deps, false);
    if (caller?.kind !== 'enroll' && caller?.kind !== 'admin' && caller?.kind !== 'agent') {
      refuse(caller, "the fleet enrollment token (or, for an enrolled id, the agent's own token or the admin token)");
    }
    (ctx.state as EnrollerAuthState).enroller = caller;
    await next();
  };
}

/** Sets ctx.state.agentId to the agent the token belongs to. */
export function requireAgent(deps: AuthDeps): Middleware {
  return async (ctx, next) => {
    const caller = await identify(ctx, deps, false);
    if (caller?.kind !== 'agent') refuse(caller, "an agent's own token");
    (ctx.state as AgentAuthState).agentId = caller.agentId;
    await next();
  };
}
