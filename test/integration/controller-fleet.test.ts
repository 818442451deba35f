// What the controller makes of reports, over real HTTP: events counted once by id, the read API's
// filters, the fleet summary, and /metrics.
import * as assert from 'uvu/assert';
import type { AgentSummary } from '../../controller/src/agent-query.js';
import type { FleetSummary } from '../../controller/src/fleet-summary.js';
import {
  adminJson,
  buildApp,
  buildChange,
  buildFacts,
  buildReport,
  controllerSuite,
  enrollAgent,
  postReport,
  type TestController,
} from '../helpers/controller.js';

const test = controllerSuite('controller fleet', { each: true });

async function okJson<T>(res: Response): Promise<T> {
  const text = await res.text();
  assert.is(res.status, 200, text);
  return JSON.parse(text) as T;
}

test('the same report sent twice counts its events once and leaves outcome counts unchanged', async ({ ctl }) => {
  const token = await enrollAgent(ctl, 'dup-a');
  const report = buildReport('dup-a', { events: [buildChange('shop', '1.0.0', '1.1.0', 'applied'), buildChange('shop', '1.1.0', '1.2.0', 'rolled-back')] });
  assert.equal(await okJson(await postReport(ctl, token, report)), { accepted: 2, duplicates: 0 });
  assert.equal(await okJson(await postReport(ctl, token, report)), { accepted: 0, duplicates: 2 });
  const fleet = await adminJson<FleetSummary>(ctl, '/api/v1/fleet');
  const counts = fleet.outcomes.map(({ version, applied, rolledBack }) => ({ version, applied, rolledBack }));
  assert.equal(counts, [
    { version: '1.1.0', applied: 1, rolledBack: 0 },
    { version: '1.2.0', applied: 0, rolledBack: 1 },
  ]);
  const detail = await adminJson<{ events: unknown[] }>(ctl, '/api/v1/agents/dup-a');
  assert.is(detail.events.length, 2);
});

async function seedFleet(ctl: TestController): Promise<void> {
  const nodes = [
    { id: 'n-1', host: 'alpha', group: 'production', apps: [buildApp('shop', '1.0.0', { desired: '1.1.0', decision: 'wait', reason: 'window' })] },
    { id: 'n-2', host: 'bravo', group: 'production', apps: [buildApp('shop', '1.1.0', { desired: '1.1.0' })] },
    { id: 'n-3', host: 'charlie', group: 'production', apps: [buildApp('shop', '1.1.0', { state: 'failed', failedVersion: '1.2.0' })] },
    { id: 'n-4', host: 'delta', group: 'staging', apps: [buildApp('shop', '1.2.0'), buildApp('blog', '2.0.0', { desired: '2.1.0', decision: 'apply' })] },
  ];
  for (const n of nodes) {
    const token = await enrollAgent(ctl, n.id, buildFacts({ hostname: n.host, group: n.group }));
    await okJson(await postReport(ctl, token, buildReport(n.id, { group: n.group, apps: n.apps })));
  }
  const stale = await enrollAgent(ctl, 'n-5', buildFacts({ hostname: 'echo', group: 'staging' }));
  await okJson(await postReport(ctl, stale, buildReport('n-5', { group: 'staging', apps: [], channel: { stale: true } })));
}

const ids = (agents: AgentSummary[]): string[] => agents.map((a) => a.agentId);

test('GET /api/v1/agents filters by group, app, version and state, in agent-id order', async ({ ctl }) => {
  await seedFleet(ctl);
  const list = async (query: string): Promise<string[]> => ids((await adminJson<{ agents: AgentSummary[] }>(ctl, `/api/v1/agents${query}`)).agents);
  assert.equal(await list(''), ['n-1', 'n-2', 'n-3', 'n-4', 'n-5']);
  assert.equal(await list('?group=staging'), ['n-4', 'n-5']);
  assert.equal(await list('?app=blog'), ['n-4']);
  assert.equal(await list('?app=shop&version=1.1.0'), ['n-2', 'n-3']);
  assert.equal(await list('?version=2.0.0'), ['n-4']);
  assert.equal(await list('?state=failed'), ['n-3']);
  assert.equal(await list('?state=waiting'), ['n-1']);
  assert.equal(await list('?state=updating'), ['n-4']);
  assert.equal(await list('?state=stale'), ['n-5']);
  assert.equal(await list('?group=production&state=ok'), ['n-2']);
  const bad = await fetch(`${ctl.url}/api/v1/agents?state=sleepy`, { headers: { authorization: `Bearer ${ctl.adminToken}` } });
  assert.is(bad.status, 400);
  assert.is(((await bad.json()) as { field: string }).field, 'state');
});

interface AgentsPage {
  agents: AgentSummary[];
  total: number;
  next: string | null;
}

/** Every page of a listing, following `next` from the first; the ids of each page. */
async function pages(ctl: TestController, query: string): Promise<{ ids: string[][]; totals: number[] }> {
  const out = { ids: [] as string[][], totals: [] as number[] };
  let after: string | null = null;
  do {
    const page: AgentsPage = await adminJson<AgentsPage>(ctl, `/api/v1/agents?${query}${after === null ? '' : `&after=${encodeURIComponent(after)}`}`);
    out.ids.push(ids(page.agents));
    out.totals.push(page.total);
    after = page.next;
  } while (after !== null && out.ids.length < 20);
  return out;
}

test('GET /api/v1/agents pages by agent id with ?limit=&after=, with and without filters, and the fleet total', async ({ ctl }) => {
  await seedFleet(ctl);
  for (const id of ['n-6', 'n-7']) await enrollAgent(ctl, id, buildFacts({ hostname: id, group: 'staging' }));
  assert.equal(await pages(ctl, 'limit=3'), { ids: [['n-1', 'n-2', 'n-3'], ['n-4', 'n-5', 'n-6'], ['n-7']], totals: [7, 7, 7] });
  assert.equal((await pages(ctl, 'limit=7')).ids, [['n-1', 'n-2', 'n-3', 'n-4', 'n-5', 'n-6', 'n-7']], 'a page that holds the rest says there is no next');
  assert.equal((await pages(ctl, 'limit=2&group=staging')).ids, [['n-4', 'n-5'], ['n-6', 'n-7']]);
  // A filtered page that fills cannot know whether a match follows without reading on: it names a
  // next, and that page may be empty.
  assert.equal((await pages(ctl, 'limit=1&state=failed')).ids, [['n-3'], []]);
  const first = await adminJson<AgentsPage>(ctl, '/api/v1/agents');
  assert.is(first.agents.length, 7, 'the default page holds a small fleet');
  assert.is(first.next, null);
  for (const limit of ['0', '2001', 'ten', '1.5']) {
    const bad = await fetch(`${ctl.url}/api/v1/agents?limit=${limit}`, { headers: { authorization: `Bearer ${ctl.adminToken}` } });
    assert.is(bad.status, 400, `limit=${limit}`);
    assert.is(((await bad.json()) as { field: string }).field, 'limit');
  }
});

test('GET /api/v1/fleet counts agents by state, versions per group and app, the desired version and stale channels', async ({ ctl }) => {
  await seedFleet(ctl);
  const fleet = await adminJson<FleetSummary>(ctl, '/api/v1/fleet');
  assert.is(fleet.agents.total, 5);
  assert.equal(fleet.agents.byState, { failed: 1, refused: 0, unreachable: 0, stale: 1, offline: 0, updating: 1, waiting: 1, ok: 1 });
  assert.is(fleet.staleChannels, 1);
  assert.is(fleet.unreachableChannels, 0);
  const production = fleet.groups.find((g) => g.group === 'production')!;
  assert.equal(production.apps, [
    { app: 'shop', versions: [{ version: '1.0.0', agents: 1 }, { version: '1.1.0', agents: 2 }], desired: '1.1.0', upToDate: 2, total: 3, pinned: 0, stopped: 0, windowWaits: 0, backingOff: 0 },
  ]);
  assert.equal(
    fleet.groups.map((g) => [g.group, g.agents]),
    [
      ['production', 3],
      ['staging', 2],
    ],
  );
});

test('GET /api/v1/agents/:id shows the agent, its events newest first, and 404 for an unknown id', async ({ ctl }) => {
  const token = await enrollAgent(ctl, 'detail-a', buildFacts({ hostname: 'detail-host' }));
  const first = buildChange('shop', '1.0.0', '1.1.0', 'applied');
  const second = buildChange('shop', '1.1.0', '1.2.0', 'rollback-failed', { reason: 'health check failed' });
  await okJson(await postReport(ctl, token, buildReport('detail-a', { events: [first] })));
  await okJson(await postReport(ctl, token, buildReport('detail-a', { events: [second] })));
  const detail = await adminJson<{ agent: AgentSummary; events: { id: string }[]; diagnostics: unknown[] }>(ctl, '/api/v1/agents/detail-a');
  assert.is(detail.agent.hostname, 'detail-host');
  assert.is(detail.agent.state, 'failed');
  assert.equal(detail.events.map((e) => e.id), [second.id, first.id]);
  assert.equal(detail.diagnostics, []);
  const fleet = await adminJson<FleetSummary>(ctl, '/api/v1/fleet');
  assert.equal(fleet.recentFailures.map((f) => [f.agentId, f.hostname, f.outcome, f.reason]), [['detail-a', 'detail-host', 'rollback-failed', 'health check failed']]);
  const missing = await fetch(`${ctl.url}/api/v1/agents/nobody`, { headers: { authorization: `Bearer ${ctl.adminToken}` } });
  assert.is(missing.status, 404);
  assert.is(((await missing.json()) as { error: string }).error, 'not-found');
});

test('/metrics serves agents by state, running versions, reports, events by type, outcomes and rejections', async ({ ctl }) => {
  const token = await enrollAgent(ctl, 'metrics-a', buildFacts({ group: 'production' }));
  await okJson(await postReport(ctl, token, buildReport('metrics-a', { apps: [buildApp('shop', '1.1.0')], events: [buildChange('shop', '1.0.0', '1.1.0', 'applied')] })));
  assert.is((await postReport(ctl, token, '{not json')).status, 400);
  const res = await fetch(`${ctl.url}/metrics`);
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', 'text/plain');
  const text = await res.text();
  for (const line of [
    'duck_agents{state="ok"} 1',
    'duck_agents{state="failed"} 0',
    'duck_agents_running{group="production",app="shop",version="1.1.0"} 1',
    'duck_reports_received_total 1',
    'duck_events_received_total{type="upgrade"} 1',
    'duck_change_outcomes{group="production",app="shop",version="1.1.0",outcome="applied"} 1',
    'duck_report_rejections_total{reason="malformed-json"} 1',
  ]) {
    assert.ok(text.split('\n').includes(line), `missing "${line}" in\n${text}`);
  }
  assert.not.match(text, 'metrics-a');
});

test.run();
