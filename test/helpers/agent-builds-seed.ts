// A small fleet for the agent's own builds (issue 15 point 7), enrolled and reported over real
// HTTP: production moves its agents from 0.1.0 to 0.2.0 — two run it, one waits for its window, one
// refused 0.2.0 (its sha256 did not match) —, and staging's one agent is too old to report the block.
import * as assert from 'uvu/assert';
import type { AgentUpdateFailure } from '../../schemas/index.js';
import { buildAgentUpdate, buildAgentUpdateEvent, buildFacts, buildReport, enrollAgent, postReport, type ReportShape, type TestController } from './controller.js';

export const SHA_FAILURE: AgentUpdateFailure = {
  version: '0.2.0',
  at: '2026-11-28T02:04:00Z',
  reason: 'sha256 of duck-0.2.0-linux-x64.tar.gz is 9f…, agent.yaml says 3c…',
  step: 'download',
};
export const FAILED_REASON = '0.2.0 failed here (download): not tried again until its release changes';
export const WAIT_REASON = 'waiting for the window Sat 02:00 UTC';

async function report(ctl: Pick<TestController, 'url' | 'enrollToken'>, id: string, group: string, agentVersion: string, shape: ReportShape): Promise<void> {
  const token = await enrollAgent(ctl, id, buildFacts({ hostname: `host-${id}`, group, agentVersion }));
  const res = await postReport(ctl, token, buildReport(id, { group, ...shape }));
  assert.is(res.status, 200, await res.text());
}

/** Agents a-1 … a-4 in production, a-5 in staging. */
export async function seedAgentBuilds(ctl: Pick<TestController, 'url' | 'enrollToken'>): Promise<void> {
  await report(ctl, 'a-1', 'production', '0.2.0', { agent: buildAgentUpdate('0.2.0'), events: [buildAgentUpdateEvent('0.1.0', '0.2.0', 'applied')] });
  await report(ctl, 'a-2', 'production', '0.1.0', { agent: buildAgentUpdate('0.1.0', { desired: '0.2.0', decision: 'wait', reason: WAIT_REASON }) });
  await report(ctl, 'a-3', 'production', '0.1.0', {
    agent: buildAgentUpdate('0.1.0', { desired: '0.2.0', decision: 'none', reason: FAILED_REASON, failed: [SHA_FAILURE] }),
    events: [buildAgentUpdateEvent('0.1.0', '0.2.0', 'failed', { reason: SHA_FAILURE.reason })],
  });
  await report(ctl, 'a-4', 'production', '0.2.0', { agent: buildAgentUpdate('0.2.0') });
  await report(ctl, 'a-5', 'staging', '0.1.0', {});
}
