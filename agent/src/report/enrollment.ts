import type { NodeFacts } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import type { ControllerEnrollment } from '../core/agent-state.js';
import type { Clock, ControllerClient, Logger, StateSnapshot, StateStore } from '../ports.js';

/** What enrolling needs; the writer hands it in (only the writer enrolls: it writes the state). */
export interface EnrollmentDeps {
  readonly state: StateStore;
  readonly client: ControllerClient;
  readonly clock: Clock;
  readonly agentId: string;
  /** The fleet enrollment token, read only when the agent must enroll. */
  enrollToken(): Promise<string>;
  facts(): Promise<NodeFacts>;
  readonly log: Logger;
}

/** The enrollment kept in the state when it is for this controller and this agent id; null otherwise. */
export function currentEnrollment(state: StateSnapshot, url: string, agentId: string): ControllerEnrollment | null {
  const known = state.controller;
  return known && known.url === url && known.agentId === agentId ? known : null;
}

/**
 * Enrolls once: the fleet enrollment token buys this agent its own token, kept in the state. A
 * changed controller URL or agent id enrolls again; `again` forces it (the controller forgot us).
 * The controller lets the fleet token enroll only ids it does not know, so a move to a new URL of
 * the same controller first offers the token this agent already holds for its id.
 */
export async function ensureEnrolled(deps: EnrollmentDeps, opts: { again?: boolean; signal?: AbortSignal } = {}): Promise<ControllerEnrollment> {
  const { client, agentId } = deps;
  const state = deps.state.read();
  const known = currentEnrollment(state, client.url, agentId);
  if (known && !opts.again) return known;
  // Facts probe Docker: gathered once, whichever token ends up sent.
  let facts: Promise<NodeFacts> | null = null;
  const message = async () => ({ agentId, facts: await (facts ??= deps.facts()) });
  const held = !opts.again && state.controller?.agentId === agentId ? state.controller.token : null;
  let answer: { token: string } | null = null;
  if (held) {
    try {
      answer = await client.register(held, await message(), opts.signal);
    } catch (err) {
      if (!isRefusedToken(err)) throw err;
    }
  }
  answer ??= await client.register(await deps.enrollToken(), await message(), opts.signal);
  const enrollment: ControllerEnrollment = { url: client.url, agentId, token: answer.token, enrolledAt: deps.clock().toISOString() };
  await deps.state.update((s) => {
    s.controller = enrollment;
  });
  deps.log('enrolled', { agentId: enrollment.agentId, controller: client.url });
  return enrollment;
}

/** The controller does not take this token (another controller's, or revoked): the fleet token is next. */
function isRefusedToken(err: unknown): boolean {
  return err instanceof DuckError && (err.data.status === 401 || err.data.status === 403);
}
