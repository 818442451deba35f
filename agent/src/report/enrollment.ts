import type { NodeFacts } from '../../../schemas/index.js';
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
 */
export async function ensureEnrolled(deps: EnrollmentDeps, opts: { again?: boolean; signal?: AbortSignal } = {}): Promise<ControllerEnrollment> {
  const { client, agentId } = deps;
  const known = currentEnrollment(deps.state.read(), client.url, agentId);
  if (known && !opts.again) return known;
  const enrollToken = await deps.enrollToken();
  const answer = await client.register(enrollToken, { agentId, facts: await deps.facts() }, opts.signal);
  const enrollment: ControllerEnrollment = { url: client.url, agentId, token: answer.token, enrolledAt: deps.clock().toISOString() };
  await deps.state.update((s) => {
    s.controller = enrollment;
  });
  deps.log('enrolled', { agentId: enrollment.agentId, controller: client.url });
  return enrollment;
}
