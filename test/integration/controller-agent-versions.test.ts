// The agent's own builds as the controller sees them (issue 15 point 7), over real HTTP: a report's
// status.agent and its agent-update events are accepted, kept and served per node; the fleet
// summary counts agent versions and failed agent versions per group; /metrics says the same.
import * as assert from 'uvu/assert';
import type { AgentSummary } from '../../controller/src/agent-query.js';
import type { FleetSummary } from '../../controller/src/fleet-summary.js';
import type { StoredEvent } from '../../controller/src/store/fleet-store.js';
import { FAILED_REASON, SHA_FAILURE, seedAgentBuilds } from '../helpers/agent-builds-seed.js';
import { adminJson, buildAgentUpdate, buildChange, buildReport, controllerSuite, enrollAgent, postReport } from '../helpers/controller.js';

const test = controllerSuite('controller agent versions', { each: true });

test('a report with the agent block and an agent-update event is accepted, and the node serves both', async ({ ctl }) => {
  await seedAgentBuilds(ctl);
  const detail = await adminJson<{ agent: AgentSummary; events: StoredEvent[] }>(ctl, '/api/v1/agents/a-3');
  assert.equal(detail.agent.agentUpdate, {
    current: '0.1.0',
    desired: '0.2.0',
    decision: 'none',
    reason: FAILED_REASON,
    failed: [SHA_FAILURE],
  });
  assert.is(detail.agent.agentVersion, '0.1.0');
  assert.equal(detail.events.map((e) => [e.type, e.outcome, e.from, e.to, 'app' in e]), [['agent-update', 'failed', '0.1.0', '0.2.0', false]]);
  const old = await adminJson<{ agent: AgentSummary }>(ctl, '/api/v1/agents/a-5');
  assert.is(old.agent.agentUpdate, null, 'an agent too old to say has no agent block');
});

test('an agent-update event counts in no app outcome and no failure of an app; the agent state stays as its apps say', async ({ ctl }) => {
  await seedAgentBuilds(ctl);
  const fleet = await adminJson<FleetSummary>(ctl, '/api/v1/fleet');
  assert.equal(fleet.outcomes, []);
  assert.equal(fleet.recentFailures, []);
  const listed = await adminJson<{ agents: AgentSummary[] }>(ctl, '/api/v1/agents?group=production');
  assert.equal(listed.agents.map((a) => [a.agentId, a.state]), [['a-1', 'ok'], ['a-2', 'ok'], ['a-3', 'ok'], ['a-4', 'ok']]);
});

test('the fleet summary counts agent versions per group, the version asked for, waits and failed agent versions', async ({ ctl }) => {
  await seedAgentBuilds(ctl);
  const fleet = await adminJson<FleetSummary>(ctl, '/api/v1/fleet');
  const agent = Object.fromEntries(fleet.groups.map((g) => [g.group, g.agent]));
  assert.equal(agent.production, {
    versions: [{ version: '0.1.0', agents: 2 }, { version: '0.2.0', agents: 2 }],
    desired: '0.2.0',
    upToDate: 2,
    waiting: 1,
    failed: [{ version: '0.2.0', agents: 1 }],
  });
  assert.equal(agent.staging, { versions: [{ version: '0.1.0', agents: 1 }], desired: null, upToDate: 0, waiting: 0, failed: [] });
});

test('GET /api/v1/agents filters by the duck agent version running and by an agent version that failed', async ({ ctl }) => {
  await seedAgentBuilds(ctl);
  const ids = async (query: string): Promise<string[]> => (await adminJson<{ agents: AgentSummary[] }>(ctl, `/api/v1/agents?${query}`)).agents.map((a) => a.agentId);
  assert.equal(await ids('agentVersion=0.1.0'), ['a-2', 'a-3', 'a-5']);
  assert.equal(await ids('agentVersion=0.1.0&group=production'), ['a-2', 'a-3']);
  assert.equal(await ids('agentFailed=0.2.0'), ['a-3']);
  assert.equal(await ids('agentFailed=0.1.0'), []);
});

test('/metrics serves nodes per agent version and nodes where an agent version failed, per group', async ({ ctl }) => {
  await seedAgentBuilds(ctl);
  const text = await (await fetch(`${ctl.url}/metrics`)).text();
  for (const line of [
    'duck_agent_version_nodes{group="production",version="0.1.0"} 2',
    'duck_agent_version_nodes{group="production",version="0.2.0"} 2',
    'duck_agent_version_nodes{group="staging",version="0.1.0"} 1',
    'duck_agent_failed_version_nodes{group="production",version="0.2.0"} 1',
    'duck_events_received_total{type="agent-update"} 2',
  ]) {
    assert.ok(text.includes(`${line}\n`), `missing: ${line}`);
  }
  assert.not.match(text, 'duck_agent_failed_version_nodes{group="staging"');
});

test('a malformed agent block is refused naming its field', async ({ ctl }) => {
  const token = await enrollAgent(ctl, 'bad-1');
  const body = buildReport('bad-1', { agent: buildAgentUpdate('0.1.0', { decision: 'later' as never }) });
  const res = await postReport(ctl, token, body);
  assert.is(res.status, 400);
  assert.match(await res.text(), '/status/agent/decision');
  const change = buildChange('shop', '1', '2', 'applied');
  assert.is((await postReport(ctl, token, buildReport('bad-1', { events: [change] }))).status, 200, 'the same agent reports fine without it');
});

test.run();
