// The agent's own enrollment code (agent/src/report/enrollment.ts, as it is) against a real
// controller over HTTP: under the rule that the fleet token enrolls only ids the controller does
// not know, an agent still gets back in after the controller lost its data, and an agent that lost
// its state gets 409 until an operator releases its id.
import * as assert from 'uvu/assert';
import { readEnrollToken } from '../../agent/src/node/config.js';
import type { NodeParts } from '../../agent/src/node/wiring.js';
import { wireNode } from '../../agent/src/node/wiring.js';
import { createControllerClient } from '../../agent/src/adapters/controller-client.js';
import { ensureEnrolled } from '../../agent/src/report/enrollment.js';
import type { ControllerEnrollment } from '../../agent/src/core/agent-state.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { buildFacts, buildReport, postReport, reportingNode, reportingSuite, startTestController, type TestController } from '../helpers/controller.js';

const test = reportingSuite('agent re-enrollment under the enrollment rule', 'reenroll-root');

function enroll(parts: NodeParts, agentId: string, again = false, client = parts.controller!): Promise<ControllerEnrollment> {
  return ensureEnrolled(
    {
      state: parts.state,
      client,
      clock: parts.clock,
      agentId,
      enrollToken: () => readEnrollToken(parts.config),
      facts: async () => buildFacts({ hostname: agentId }),
      log: () => undefined,
    },
    { again },
  );
}

const reportStatus = async (ctl: Pick<TestController, 'url'>, token: string, agentId: string): Promise<number> => (await postReport(ctl, token, buildReport(agentId))).status;

test('a controller that lost its data takes the agent back: after its token is refused it enrolls again with the fleet token', async (ctx) => {
  const [dirA, dirB] = [await makeTempDir('duck-ctl-a-'), await makeTempDir('duck-ctl-b-')];
  let ctl: TestController | null = await startTestController({ dataDir: dirA });
  try {
    const node = await reportingNode(ctx, { ctl });
    const parts = await wireNode({ configFile: node.configFile });
    const first = await enroll(parts, 'lost-data-a');
    assert.is(await reportStatus(ctl, first.token, 'lost-data-a'), 200);
    // The same URL and tokens, an empty data directory: the controller no longer knows the agent.
    const port = Number(new URL(ctl.url).port);
    const tokens = { enrollToken: ctl.enrollToken, adminToken: ctl.adminToken };
    await ctl.stop();
    ctl = await startTestController({ dataDir: dirB, port, tokens });
    assert.is(await reportStatus(ctl, first.token, 'lost-data-a'), 403, 'what makes the reporter enroll again');
    const again = await enroll(parts, 'lost-data-a', true);
    assert.is.not(again.token, first.token);
    assert.is(await reportStatus(ctl, again.token, 'lost-data-a'), 200);
  } finally {
    await ctl?.stop();
    await removeTempDir(dirA);
    await removeTempDir(dirB);
  }
});

test('an agent that lost its state gets 409 naming the way out, and enrolls once an operator released its id', async (ctx) => {
  const before = await wireNode({ configFile: (await reportingNode(ctx)).configFile });
  const lostToken = (await enroll(before, 'lost-state-a')).token;
  const after = await wireNode({ configFile: (await reportingNode(ctx)).configFile });
  const refused = await enroll(after, 'lost-state-a').then(
    () => null,
    (err: Error & { data?: { status?: number } }) => err,
  );
  assert.ok(refused, 'the fleet token alone does not take an enrolled id');
  assert.is(refused.data?.status, 409);
  assert.match(refused.message, 'DELETE /api/v1/agents/lost-state-a/token');
  assert.is(await reportStatus(ctx.ctl, lostToken, 'lost-state-a'), 200, 'the enrolled agent was not locked out');
  const release = await fetch(`${ctx.ctl.url}/api/v1/agents/lost-state-a/token`, { method: 'DELETE', headers: { authorization: `Bearer ${ctx.ctl.adminToken}` } });
  assert.is(release.status, 204);
  const enrolled = await enroll(after, 'lost-state-a');
  assert.is(await reportStatus(ctx.ctl, enrolled.token, 'lost-state-a'), 200);
  assert.is(await reportStatus(ctx.ctl, lostToken, 'lost-state-a'), 403);
});

test('the same controller under a new URL takes the agent back by its own token, not the fleet token', async (ctx) => {
  const parts = await wireNode({ configFile: (await reportingNode(ctx)).configFile });
  const first = await enroll(parts, 'moved-url-a');
  const moved = createControllerClient(ctx.ctl.url.replace('127.0.0.1', 'localhost'));
  assert.is.not(moved.url, parts.controller!.url);
  const again = await enroll(parts, 'moved-url-a', false, moved);
  assert.is(again.url, moved.url);
  assert.is.not(again.token, first.token, 'a new token for the new URL');
  assert.is(await reportStatus(ctx.ctl, again.token, 'moved-url-a'), 200);
});

test.run();
