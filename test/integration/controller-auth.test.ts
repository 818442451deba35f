// The controller's gate over real HTTP on loopback: enrollment, which token fits which route
// (none → 401, the wrong kind → 403), bodies past the cap (413) and bodies that are not reports
// (400 naming the field), the dashboard's session cookie, and who may enroll an id already
// enrolled (its own token or the admin token; the fleet token gets 409).
import * as assert from 'uvu/assert';
import {
  adminJson,
  buildFacts,
  buildReport,
  controllerSuite,
  enrollAgent,
  postReport,
  type TestController,
} from '../helpers/controller.js';

const test = controllerSuite('controller auth and bodies');

async function errorBody(res: Response): Promise<{ error: string; message: string; field?: string }> {
  return (await res.json()) as { error: string; message: string; field?: string };
}

test('enrollment with the fleet token answers 201 with the id and a fresh 43-character token', async ({ ctl }) => {
  const res = await fetch(`${ctl.url}/api/v1/agents/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctl.enrollToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agentId: 'enroll-a', facts: buildFacts({ hostname: 'enroll-a' }) }),
  });
  assert.is(res.status, 201);
  const body = (await res.json()) as { agentId: string; token: string };
  assert.is(body.agentId, 'enroll-a');
  assert.match(body.token, /^[A-Za-z0-9_-]{43}$/);
  assert.is((await postReport(ctl, body.token, buildReport('enroll-a'))).status, 200);
});

test('a request without a token gets 401 on agent, enrollment and admin routes', async ({ ctl }) => {
  const report = await postReport(ctl, '', buildReport('x'));
  assert.is(report.status, 401);
  assert.is((await errorBody(report)).error, 'unauthenticated');
  const noHeader = await fetch(`${ctl.url}/api/v1/reports`, { method: 'POST', body: '{}' });
  assert.is(noHeader.status, 401);
  assert.is(noHeader.headers.get('www-authenticate'), 'Bearer');
  assert.is((await fetch(`${ctl.url}/api/v1/agents/register`, { method: 'POST', body: '{}' })).status, 401);
  assert.is((await fetch(`${ctl.url}/api/v1/fleet`)).status, 401);
});

test('tokens of the wrong kind get 403: agent on admin, admin and enroll on agent routes, unknown tokens', async ({ ctl }) => {
  const token = await enrollAgent(ctl, 'kinds-a');
  const get = (path: string, t: string): Promise<Response> => fetch(`${ctl.url}${path}`, { headers: { authorization: `Bearer ${t}` } });
  assert.is((await get('/api/v1/fleet', token)).status, 403);
  assert.is((await get('/api/v1/fleet', ctl.enrollToken)).status, 403);
  assert.is((await get('/api/v1/agents', 'not-a-token')).status, 403);
  assert.is((await postReport(ctl, ctl.adminToken, buildReport('kinds-a'))).status, 403);
  assert.is((await postReport(ctl, ctl.enrollToken, buildReport('kinds-a'))).status, 403);
  assert.is((await postReport(ctl, 'not-a-token', buildReport('kinds-a'))).status, 403);
  const enrollWithAgent = await fetch(`${ctl.url}/api/v1/agents/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agentId: 'kinds-b', facts: buildFacts() }),
  });
  assert.is(enrollWithAgent.status, 403);
});

test("an agent's token used to report for another agent gets 403 naming /agentId", async ({ ctl }) => {
  const tokenA = await enrollAgent(ctl, 'other-a');
  await enrollAgent(ctl, 'other-b');
  const res = await postReport(ctl, tokenA, buildReport('other-b'));
  assert.is(res.status, 403);
  assert.is((await errorBody(res)).field, '/agentId');
});

function register(ctl: TestController, token: string, agentId: string): Promise<Response> {
  return fetch(`${ctl.url}/api/v1/agents/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agentId, facts: buildFacts({ hostname: agentId }) }),
  });
}

const newToken = async (res: Response): Promise<string> => {
  const text = await res.text();
  assert.is(res.status, 201, text);
  return (JSON.parse(text) as { token: string }).token;
};

test('the fleet enrollment token cannot take over an enrolled id: 409 naming the way, and the real agent keeps reporting', async ({ ctl }) => {
  const real = await enrollAgent(ctl, 'takeover-a');
  const res = await register(ctl, ctl.enrollToken, 'takeover-a');
  assert.is(res.status, 409);
  const body = await errorBody(res);
  assert.equal([body.error, body.field], ['conflict', '/agentId']);
  assert.match(body.message, "needs its own current token or the admin token");
  assert.match(body.message, 'DELETE /api/v1/agents/takeover-a/token');
  assert.is((await postReport(ctl, real, buildReport('takeover-a'))).status, 200);
});

test("an agent enrolls its own id again with its current token: a new token, the old one stops, its history stays", async ({ ctl }) => {
  const first = await enrollAgent(ctl, 'reenroll-a');
  const report = buildReport('reenroll-a', { events: [{ id: 'reenroll-ev-1', at: new Date().toISOString(), type: 'backup', app: 'shop' }] });
  assert.is((await postReport(ctl, first, report)).status, 200);
  const second = await newToken(await register(ctl, first, 'reenroll-a'));
  assert.is.not(second, first);
  assert.is((await postReport(ctl, first, buildReport('reenroll-a'))).status, 403);
  assert.is((await postReport(ctl, second, buildReport('reenroll-a'))).status, 200);
  const detail = await adminJson<{ events: { id: string }[] }>(ctl, '/api/v1/agents/reenroll-a');
  assert.equal(detail.events.map((e) => e.id), ['reenroll-ev-1']);
});

test('the admin token enrolls an enrolled id again; an agent token enrolls no other id', async ({ ctl }) => {
  const mine = await enrollAgent(ctl, 'admin-re-a');
  await enrollAgent(ctl, 'admin-re-b');
  const other = await register(ctl, mine, 'admin-re-b');
  assert.is(other.status, 403);
  assert.is((await errorBody(other)).field, '/agentId');
  const byAdmin = await newToken(await register(ctl, ctl.adminToken, 'admin-re-a'));
  assert.is((await postReport(ctl, mine, buildReport('admin-re-a'))).status, 403);
  assert.is((await postReport(ctl, byAdmin, buildReport('admin-re-a'))).status, 200);
});

test('an operator releases an id (DELETE /api/v1/agents/:id/token, admin): its token stops and the fleet token enrolls it once more', async ({ ctl }) => {
  const lost = await enrollAgent(ctl, 'released-a');
  const del = (token: string, id: string): Promise<Response> =>
    fetch(`${ctl.url}/api/v1/agents/${id}/token`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  assert.is((await del(ctl.enrollToken, 'released-a')).status, 403);
  assert.is((await del(lost, 'released-a')).status, 403);
  assert.is((await del(ctl.adminToken, 'no-such-agent')).status, 404);
  assert.is((await del(ctl.adminToken, 'released-a')).status, 204);
  assert.is((await postReport(ctl, lost, buildReport('released-a'))).status, 403);
  const fresh = await newToken(await register(ctl, ctl.enrollToken, 'released-a'));
  assert.is((await postReport(ctl, fresh, buildReport('released-a'))).status, 200);
  assert.is((await register(ctl, ctl.enrollToken, 'released-a')).status, 409, 'released for one enrollment only');
});

test('after a restart the rule holds: the fleet token still gets 409 for an id the data file knows', async ({ ctl }) => {
  const token = await enrollAgent(ctl, 'persist-a');
  await ctl.restart();
  assert.is((await register(ctl, ctl.enrollToken, 'persist-a')).status, 409);
  assert.is((await postReport(ctl, token, buildReport('persist-a'))).status, 200);
});

test('a report body past 1 MiB gets 413 and is not stored', async ({ ctl }) => {
  const token = await enrollAgent(ctl, 'big-a');
  const report = buildReport('big-a');
  const padded = JSON.stringify({ ...report, status: { ...report.status, apps: [] } }).replace('"apps":[]', `"apps":[]${' '.repeat(1024 * 1024)}`);
  const res = await postReport(ctl, token, padded);
  assert.is(res.status, 413);
  assert.is((await errorBody(res)).error, 'too-large');
  const detail = await adminJson<{ agent: { lastSeenAt: string | null } }>(ctl, '/api/v1/agents/big-a');
  assert.is(detail.agent.lastSeenAt, null);
});

test('a body that is not JSON gets 400 malformed-json', async ({ ctl }) => {
  const token = await enrollAgent(ctl, 'malformed-a');
  const res = await postReport(ctl, token, '{"agentId": "malformed-a",');
  assert.is(res.status, 400);
  assert.is((await errorBody(res)).error, 'malformed-json');
});

test('a report that breaks the schema gets 400 naming the field', async ({ ctl }) => {
  const token = await enrollAgent(ctl, 'schema-a');
  const report = buildReport('schema-a');
  const bad = { ...report, status: { ...report.status, apps: [{ ...report.status.apps[0], decision: 'maybe' }] } };
  const res = await postReport(ctl, token, bad);
  assert.is(res.status, 400);
  const body = await errorBody(res);
  assert.is(body.error, 'invalid');
  assert.is(body.field, '/status/apps/0/decision');
  assert.match(body.message, 'POST /api/v1/reports');
});

test('the session cookie from POST /api/v1/session opens the read API; a wrong token gets 403; logout closes it', async ({ ctl }) => {
  const wrong = await fetch(`${ctl.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: ctl.enrollToken }),
  });
  assert.is(wrong.status, 403);
  assert.is(wrong.headers.get('set-cookie'), null);
  const login = await fetch(`${ctl.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: ctl.adminToken }),
  });
  assert.is(login.status, 204);
  const setCookie = login.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /httponly/i);
  assert.match(setCookie, /samesite=strict/i);
  assert.match(setCookie, /path=\//i);
  assert.not.match(setCookie, ctl.adminToken);
  const cookie = setCookie.split(';')[0]!;
  assert.is((await fetch(`${ctl.url}/api/v1/fleet`, { headers: { cookie } })).status, 200);
  const logout = await fetch(`${ctl.url}/api/v1/session`, { method: 'DELETE', headers: { cookie } });
  assert.is(logout.status, 204);
  assert.is((await fetch(`${ctl.url}/api/v1/fleet`, { headers: { cookie } })).status, 401);
});

test('GET /healthz answers 200 { ok: true } without a token', async ({ ctl }) => {
  const res = await fetch(`${ctl.url}/healthz`);
  assert.is(res.status, 200);
  assert.equal(await res.json(), { ok: true });
});

test.run();
