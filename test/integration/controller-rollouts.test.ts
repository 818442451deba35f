// Rollout progress over real HTTP on loopback: agents report, GET /api/v1/rollouts counts each node
// in its place and draws the timeline from the stored events, /metrics exports the same counts as
// gauges; the read-only token reads the admin
// API's GET routes and nothing else (403 on what writes, on agent and enrollment routes, and on
// diagnostics bundles).
import * as assert from 'uvu/assert';
import type { RolloutView } from '../../controller/src/routes/rollouts.js';
import { startController } from '../../controller/src/server.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import type { AppStatus } from '../../schemas/index.js';
import { buildApp, buildChange, buildFacts, buildReport, controllerSuite, postReport, reportAs, type TestController } from '../helpers/controller.js';

const test = controllerSuite('controller rollouts and the read-only token');

interface Rollouts {
  rollouts: RolloutView[];
}

function get(ctl: TestController, path: string, token: string): Promise<Response> {
  return fetch(`${ctl.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

function report(ctl: TestController, agentId: string, group: string, app: AppStatus, events = [] as ReturnType<typeof buildChange>[]): Promise<void> {
  return reportAs(ctl, agentId, { group, apps: [app], events });
}

const hello = (current: string | null, overrides: Partial<AppStatus> = {}): AppStatus => buildApp('hello', current, { groupVersion: '1.2.0', desired: '1.2.0', ...overrides });

test('GET /api/v1/rollouts: per group and app, each node in its place, and the timeline of the version', async ({ ctl }) => {
  const at = (s: number): string => new Date(Date.UTC(2026, 2, 1, 12, 0, s)).toISOString();
  await report(ctl, 'ro-1', 'canary', hello('1.2.0'), [buildChange('hello', '1.1.0', '1.2.0', 'applied', { at: at(1) })]);
  await report(ctl, 'ro-2', 'canary', hello('1.2.0'), [buildChange('hello', '1.1.0', '1.2.0', 'applied', { at: at(2) })]);
  await report(ctl, 'ro-3', 'canary', hello('1.1.0', { state: 'failed', failedVersion: '1.2.0', decision: 'wait', waitingFor: 'failed' }), [
    buildChange('hello', '1.1.0', '1.2.0', 'rolled-back', { at: at(3) }),
  ]);
  await report(ctl, 'ro-4', 'canary', hello('1.1.0', { decision: 'wait', waitingFor: 'window' }));
  await report(ctl, 'ro-5', 'production', hello('1.1.0', { groupVersion: '1.1.0', desired: '1.1.0' }));

  const all = (await (await get(ctl, '/api/v1/rollouts', ctl.readToken)).json()) as Rollouts;
  assert.equal(
    all.rollouts.map((r) => [r.group, r.app, r.desired, r.timeline]),
    [
      ['canary', 'hello', '1.2.0', undefined],
      ['production', 'hello', '1.1.0', undefined],
    ],
    'no timeline unless one rollout is asked for',
  );

  const res = await get(ctl, '/api/v1/rollouts?group=canary&app=hello', ctl.readToken);
  assert.is(res.status, 200);
  const [canary] = ((await res.json()) as Rollouts).rollouts;
  assert.ok(canary);
  assert.is(canary.version, '1.2.0');
  assert.is(canary.total, 4);
  assert.is(canary.inRollout, 4);
  assert.equal([canary.counts.healthy, canary.counts.releaseFailed, canary.counts.window], [2, 1, 1]);
  assert.equal(
    canary.timeline?.map((e) => [e.agentId, e.outcome, e.applied]),
    [
      ['ro-1', 'applied', 1],
      ['ro-2', 'applied', 2],
      ['ro-3', 'rolled-back', 2],
    ],
  );

  const older = ((await (await get(ctl, '/api/v1/rollouts?group=canary&app=hello&version=1.1.0', ctl.adminToken)).json()) as Rollouts).rollouts[0];
  assert.is(older?.version, '1.1.0');
  assert.is(older?.counts.healthy, 1, 'the admin token reads it too; the node waiting for its window runs 1.1.0');

  const bad = await get(ctl, '/api/v1/rollouts?version=../x', ctl.readToken);
  assert.is(bad.status, 400);
  assert.equal(((await bad.json()) as { field: string }).field, 'version');
});

test('/metrics: per group and version, the rollout nodes by place and the target the group asks for', async ({ ctl }) => {
  const text = await (await fetch(`${ctl.url}/metrics`)).text();
  assert.match(text, /^duck_rollout_nodes\{group="canary",app="hello",version="1\.2\.0",place="healthy"\} 2$/m);
  assert.match(text, /^duck_rollout_nodes\{group="canary",app="hello",version="1\.2\.0",place="releaseFailed"\} 1$/m);
  assert.match(text, /^duck_rollout_nodes\{group="canary",app="hello",version="1\.2\.0",place="window"\} 1$/m);
  assert.match(text, /^duck_rollout_target\{group="production",app="hello",version="1\.1\.0"\} 1$/m);
});

test('the read-only token reads the GET routes of the admin API', async ({ ctl }) => {
  for (const path of ['/api/v1/fleet', '/api/v1/agents', '/api/v1/agents/ro-1', '/api/v1/rollouts']) {
    assert.is((await get(ctl, path, ctl.readToken)).status, 200, path);
  }
  assert.is((await fetch(`${ctl.url}/api/v1/rollouts`)).status, 401, 'no token, no rollouts');
});

test('the read-only token is refused (403, naming itself) on what writes, on agent and enrollment routes, and on bundles', async ({ ctl }) => {
  const release = await fetch(`${ctl.url}/api/v1/agents/ro-1/token`, { method: 'DELETE', headers: { authorization: `Bearer ${ctl.readToken}` } });
  assert.is(release.status, 403);
  assert.match(((await release.json()) as { message: string }).message, /read-only token may only read/);
  assert.is((await get(ctl, '/api/v1/agents/ro-1', ctl.adminToken)).status, 200, 'the enrollment was not released');

  assert.is((await postReport(ctl, ctl.readToken, buildReport('ro-1'))).status, 403);
  const enroll = await fetch(`${ctl.url}/api/v1/agents/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctl.readToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agentId: 'ro-new', facts: buildFacts() }),
  });
  assert.is(enroll.status, 403);
  assert.is((await get(ctl, '/api/v1/diagnostics', ctl.readToken)).status, 403, 'bundles hold logs: the admin token only');
  const login = await fetch(`${ctl.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: ctl.readToken }) });
  assert.is(login.status, 403, 'no dashboard session from the read-only token');
});

test('a read-only token equal to the admin or the enrollment token is refused at start', async () => {
  const dataDir = await makeTempDir('duck-controller-');
  try {
    for (const readToken of ['same-admin', 'same-enroll']) {
      await startController({ dataDir, enrollToken: 'same-enroll', adminToken: 'same-admin', readToken }).then(
        () => assert.unreachable('started'),
        (err: Error) => assert.match(err.message, /read-only token must differ/),
      );
    }
  } finally {
    await removeTempDir(dataDir);
  }
});

test.run();
