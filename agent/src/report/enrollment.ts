import type { NodeFacts } from '../../../schemas/index.js';
import type { Agent } from '../agent.js';
import { readEnrollToken } from '../agent-config.js';
import type { ControllerClient } from '../adapters/controller-client.js';
import type { Logger } from '../apply/apply-env.js';
import type { ControllerEnrollment } from '../core/agent-state.js';
import { ensureAgentId } from '../desired-state.js';

/** The enrollment kept in the state when it is for this controller and this agent id; null otherwise. */
export function currentEnrollment(agent: Agent, url: string, agentId: string): ControllerEnrollment | null {
  const known = agent.state.read().controller;
  return known && known.url === url && known.agentId === agentId ? known : null;
}

/**
 * Enrolls once: the fleet enrollment token buys this agent its own token, kept in the state. A
 * changed controller URL or agent id enrolls again; `again` forces it (the controller forgot us).
 */
export async function ensureEnrolled(
  agent: Agent,
  client: ControllerClient,
  opts: { facts: () => Promise<NodeFacts>; log: Logger; again?: boolean; signal?: AbortSignal },
): Promise<ControllerEnrollment> {
  const agentId = await ensureAgentId(agent);
  const known = currentEnrollment(agent, client.url, agentId);
  if (known && !opts.again) return known;
  const enrollToken = await readEnrollToken(agent.config);
  const answer = await client.register(enrollToken, { agentId, facts: await opts.facts() }, opts.signal);
  const enrollment: ControllerEnrollment = { url: client.url, agentId, token: answer.token, enrolledAt: agent.clock().toISOString() };
  await agent.state.update((s) => {
    s.controller = enrollment;
  });
  opts.log('enrolled', { agentId: enrollment.agentId, controller: client.url });
  return enrollment;
}
