// Two `duck-controller serve` processes on one PostgreSQL database, as behind a load balancer.
// Agents spread over both report over real HTTP; one controller is killed with SIGKILL mid-run and
// its agents send the same reports (same event ids) to the other. At the end no report is lost or
// doubled, each failure-rate alert reached the webhook once (one recorded through the standby and
// sent by the leader, one sent by the standby after it took the leadership over), the read API
// answers the same through either controller, and a dashboard session made on one holds on the
// other until a logout on either. The database is the test's own; without a server the file skips
// with a note, unless CI=true. Controllers that share one --data directory (diagnostics bundles
// are files there) leave each other's uploads in flight alone.
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReportMessage } from '../../schemas/index.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { diagnosticsDir, STALE_UPLOAD_MS } from '../../controller/src/diagnostics-files.js';
import { buildApp, buildChange, buildFacts, buildReport, enrollAgent, postReport, startTestController } from '../helpers/controller.js';
import { startReceiver } from '../helpers/webhook-receiver.js';
import { startControllerProcess, type ControllerProcess } from '../helpers/controller-process.js';
import { createTestDatabase, postgresMissing, queryDatabase } from '../helpers/postgres.js';

const test = suite('controller instances');
const skipBecause = await postgresMissing();

const TOKENS = { enrollToken: 'instances-enroll', adminToken: 'instances-admin' };
const AGENTS = 8;
const ROUNDS = 12;
/** Every wait below has this deadline at most; the alert leader's bids are 5 s apart. */
const DEADLINE_MS = 60_000;

async function until(what: string, check: () => boolean | Promise<boolean>, ms = DEADLINE_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * An agent as the real one behaves toward a controller it cannot reach: the report stays queued
 * and goes again, unchanged, to the other address it knows. Answers where it was accepted.
 */
async function deliver(report: ReportMessage, token: string, urls: () => string[]): Promise<string> {
  const end = Date.now() + DEADLINE_MS;
  for (let attempt = 0; ; attempt++) {
    const candidates = urls();
    const url = candidates[attempt % candidates.length]!;
    try {
      const res = await postReport({ url }, token, report);
      const text = await res.text();
      if (res.status !== 200) throw new Error(`report of ${report.agentId} to ${url} answered ${res.status}: ${text}`);
      return url;
    } catch (err) {
      // A refused or cut connection is the killed controller; an HTTP answer other than 200 is a failure of the test.
      if (err instanceof Error && err.message.startsWith('report of')) throw err;
      if (Date.now() > end) throw new Error(`report of ${report.agentId} not delivered within ${DEADLINE_MS} ms: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const fleetFrom = async (url: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> => {
  const res = await fetch(`${url}/api/v1/fleet`, { headers });
  return { status: res.status, body: res.status === 200 ? await res.json() : await res.text() };
};

async function adminGet(url: string, path: string): Promise<unknown> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKENS.adminToken}` } });
  assert.is(res.status, 200, `GET ${path} through ${url}`);
  const body = (await res.json()) as Record<string, unknown>;
  // The only field that depends on when it was asked.
  delete body.generatedAt;
  return body;
}

const NAME = 'agents spread over two controllers lose and double nothing when one is killed; one webhook per alert; the same answers and sessions through either';

(skipBecause ? test.skip : test)(NAME, async () => {
  const db = await createTestDatabase('duck_instances');
  const receiver = await startReceiver();
  const dirs = [await makeTempDir('duck-instance-a-'), await makeTempDir('duck-instance-b-'), await makeTempDir('duck-instance-c-')];
  const running: ControllerProcess[] = [];
  const serve = async (dir: string): Promise<ControllerProcess> => {
    const args = ['--data', dir, '--store', db.url, '--alert-webhook', receiver.url, '--alert-threshold', '0.5', '--alert-min-attempts', '2'];
    const ctl = await startControllerProcess(args, { DUCK_ENROLL_TOKEN: TOKENS.enrollToken, DUCK_ADMIN_TOKEN: TOKENS.adminToken });
    running.push(ctl);
    return ctl;
  };
  try {
    const a = await serve(dirs[0]!);
    await a.waitForLog((l) => l.event === 'alert-leader', DEADLINE_MS, '"leader for alerts"');
    const b = await serve(dirs[1]!);
    await b.waitForLog((l) => l.event === 'alert-standby', DEADLINE_MS, '"standby"');

    // Half the agents enroll through each controller and report to it.
    const ids = Array.from({ length: AGENTS }, (_, i) => `inst-${i}`);
    const home = new Map(ids.map((id, i) => [id, i % 2 === 0 ? a : b]));
    const tokens = new Map<string, string>();
    for (const id of ids) tokens.set(id, await enrollAgent({ url: home.get(id)!.url, enrollToken: TOKENS.enrollToken }, id, buildFacts({ hostname: id })));
    const dead = new Set<ControllerProcess>();
    const addresses = (id: string) => (): string[] => {
      const first = home.get(id)!;
      return [first, first === a ? b : a].filter((c) => !dead.has(c)).map((c) => c.url);
    };

    // Each agent's reports, made once: a retry sends the very same events.
    const sent = new Map<string, string[]>(ids.map((id) => [id, []]));
    const reportOf = (id: string, round: number): ReportMessage => {
      const events = [buildChange('web', `1.${round}.0`, `1.${round + 1}.0`, 'applied'), buildChange('web', null, `1.${round + 1}.0`, 'applied', { type: 'backup' })];
      // Alert 1: two agents homed on the standby fail shop 2.0.0 (recorded there, sent by the leader).
      if (round === 2 && (id === 'inst-1' || id === 'inst-3')) events.push(buildChange('shop', '1.0.0', '2.0.0', 'rolled-back'));
      // Alert 2, after the kill: two agents homed on the killed leader fail shop 3.0.0.
      if (round === ROUNDS - 1 && (id === 'inst-0' || id === 'inst-2')) events.push(buildChange('shop', '2.0.0', '3.0.0', 'rolled-back'));
      sent.get(id)!.push(...events.map((e) => e.id));
      return buildReport(id, { group: 'production', apps: [buildApp('web', `1.${round + 1}.0`)], events });
    };
    let delivered = 0;
    /** Called once `delivered` reaches `at`, from inside the run, so the kill lands while reports are in flight. */
    let onDelivered: { at: number; act: () => void } | null = null;
    const landedOn = new Map<string, Set<string>>(ids.map((id) => [id, new Set()]));
    const runRounds = (from: number, to: number): Promise<void[]> =>
      Promise.all(
        ids.map(async (id) => {
          for (let round = from; round < to; round++) {
            landedOn.get(id)!.add(await deliver(reportOf(id, round), tokens.get(id)!, addresses(id)));
            delivered++;
            if (onDelivered && delivered === onDelivered.at) onDelivered.act();
          }
        }),
      );

    await runRounds(0, 4);
    await until('alert 1 at the webhook', () => receiver.received.some((p) => p.version === '2.0.0'));
    // Marked sent before the leader dies, else the next leader rightly sends it again (at least once).
    await until('alert 1 marked sent', async () => (await queryDatabase(db.url, `SELECT 1 FROM alerts WHERE version = '2.0.0' AND delivery = 'sent'`)).length === 1);

    // A session made through the controller about to die.
    const login = await fetch(`${a.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKENS.adminToken }) });
    assert.is(login.status, 204);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    assert.is((await fleetFrom(b.url, { cookie })).status, 200, 'a session made on one controller holds on the other');

    // The rest of the run, with the leader killed once a third of it is through.
    let killed: Promise<void> | null = null;
    onDelivered = {
      at: delivered + Math.floor(((ROUNDS - 4) * AGENTS) / 3),
      act: () => {
        killed = a.kill('SIGKILL');
        dead.add(a);
      },
    };
    await runRounds(4, ROUNDS);
    assert.ok(killed, 'the leader was killed mid-run');
    await killed;
    assert.is(delivered, ROUNDS * AGENTS);
    for (const id of ids.filter((_, i) => i % 2 === 0)) assert.ok(landedOn.get(id)!.has(b.url), `${id}'s reports went to the other controller after the kill`);

    await b.waitForLog((l) => l.event === 'alert-leader', DEADLINE_MS, '"leader for alerts" after the leader died');
    await until('alert 2 at the webhook', () => receiver.received.some((p) => p.version === '3.0.0'));
    await until('alert 2 marked sent', async () => (await queryDatabase(db.url, `SELECT 1 FROM alerts WHERE version = '3.0.0' AND delivery = 'sent'`)).length === 1);

    // No report lost, none doubled: each agent holds exactly the events it sent, each once.
    const counts = await queryDatabase<{ agent_id: string; n: number }>(db.url, 'SELECT agent_id, count(*)::int AS n FROM events GROUP BY agent_id ORDER BY agent_id');
    assert.equal(counts, ids.map((id) => ({ agent_id: id, n: sent.get(id)!.length })).sort((x, y) => x.agent_id.localeCompare(y.agent_id)));
    for (const id of ids) {
      const stored = (await adminGet(b.url, `/api/v1/agents/${id}`)) as { events: { id: string }[] };
      assert.equal(stored.events.map((e) => e.id).sort(), [...sent.get(id)!].sort(), `${id}: the events it sent, each once`);
    }

    // A controller started again on the same database reads the same as the one that ran on.
    const c = await serve(dirs[2]!);
    await c.waitForLog((l) => l.event === 'alert-standby', DEADLINE_MS, '"standby" (the survivor leads)');
    for (const path of ['/api/v1/fleet', '/api/v1/agents', '/api/v1/agents/inst-0', '/api/v1/agents/inst-5']) {
      assert.equal(await adminGet(c.url, path), await adminGet(b.url, path), `GET ${path} the same through either controller`);
    }

    // The session made on the killed controller holds on both others; a logout on one ends it on all.
    assert.is((await fleetFrom(c.url, { cookie })).status, 200);
    const logout = await fetch(`${c.url}/api/v1/session`, { method: 'DELETE', headers: { cookie } });
    assert.is(logout.status, 204);
    assert.is((await fleetFrom(b.url, { cookie })).status, 401, 'logged out through another controller');
    assert.is((await fleetFrom(c.url, { cookie })).status, 401);

    // Stopped in order, nothing more can be sent: each alert reached the webhook exactly once.
    await c.kill('SIGTERM');
    await b.kill('SIGTERM');
    const versions = receiver.received.map((p) => `${p.group}/${p.app}/${p.version}`).sort();
    assert.equal(versions, ['production/shop/2.0.0', 'production/shop/3.0.0']);
    assert.equal(receiver.received.find((p) => p.version === '2.0.0')!.agents.sort(), ['inst-1', 'inst-3']);
  } finally {
    for (const ctl of running) await ctl.kill('SIGKILL');
    await receiver.close();
    for (const dir of dirs) await removeTempDir(dir);
    await db.drop();
  }
});

test("a controller starting on a shared --data leaves another's upload in flight alone and removes a crash's leftover", async () => {
  const dir = await makeTempDir('duck-instance-shared-');
  try {
    await mkdir(diagnosticsDir(dir), { recursive: true });
    const inFlight = join(diagnosticsDir(dir), '.upload-in-flight.tmp');
    const leftover = join(diagnosticsDir(dir), '.upload-crashed.tmp');
    await writeFile(inFlight, 'being written by the other controller');
    await writeFile(leftover, 'left by a crash');
    const before = new Date(Date.now() - 2 * STALE_UPLOAD_MS);
    await utimes(leftover, before, before);
    const ctl = await startTestController({ dataDir: dir, tokens: TOKENS });
    await ctl.stop();
    assert.equal((await readdir(diagnosticsDir(dir))).sort(), ['.upload-in-flight.tmp']);
  } finally {
    await removeTempDir(dir);
  }
});

if (skipBecause) console.log(`\n  controller instances: skipped: ${skipBecause} (set CI=true to make this fatal)`);
test.run();
