// The failure-rate alert over real HTTP: a receiver on loopback gets one JSON POST when a version's
// failure rate in a group crosses the threshold, and a dead webhook never slows or fails a report.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AlertPayload } from '../../controller/src/alerts.js';
import type { FleetSummary } from '../../controller/src/fleet-summary.js';
import { adminJson, buildChange, buildFacts, buildReport, enrollAgent, postReport, startTestController } from '../helpers/controller.js';

const test = suite('controller alerts');

interface Receiver {
  url: string;
  received: AlertPayload[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: AlertPayload[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertPayload);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received, close: () => new Promise((r) => server.close(() => r())) };
}

async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  for (let waited = 0; waited < ms && !check(); waited += 20) await new Promise((r) => setTimeout(r, 20));
}

test('the webhook is called once when a version fails past the threshold in a group', async () => {
  const receiver = await startReceiver();
  const ctl = await startTestController({ alertWebhook: receiver.url, alertThreshold: 0.5, alertMinAttempts: 3 });
  try {
    const report = async (agentId: string, outcome: 'applied' | 'rolled-back', to = '1.2.0'): Promise<void> => {
      const token = await enrollAgent(ctl, agentId, buildFacts({ hostname: agentId, group: 'production' }));
      const res = await postReport(ctl, token, buildReport(agentId, { events: [buildChange('shop', '1.1.0', to, outcome)] }));
      assert.is(res.status, 200);
    };
    await report('a-1', 'applied');
    await report('a-2', 'rolled-back');
    await new Promise((r) => setTimeout(r, 100));
    assert.is(receiver.received.length, 0, 'two attempts are below --alert-min-attempts');
    await report('a-3', 'rolled-back');
    await waitFor(() => receiver.received.length > 0);
    await report('a-4', 'rolled-back');
    await report('a-5', 'applied', '1.3.0');
    await new Promise((r) => setTimeout(r, 200));
    assert.is(receiver.received.length, 1);
    const alert = receiver.received[0]!;
    assert.equal(
      { kind: alert.kind, group: alert.group, app: alert.app, version: alert.version, attempts: alert.attempts, failures: alert.failures },
      { kind: 'failure-rate', group: 'production', app: 'shop', version: '1.2.0', attempts: 3, failures: 2 },
    );
    assert.ok(Math.abs(alert.rate - 2 / 3) < 1e-9);
    assert.is(alert.threshold, 0.5);
    assert.equal(alert.agents, ['a-2', 'a-3']);
    assert.match(alert.advice, 'groups/<group>.yaml');
    const fleet = await adminJson<FleetSummary>(ctl, '/api/v1/fleet');
    assert.equal(fleet.alerts.map((a) => [a.group, a.app, a.version]), [['production', 'shop', '1.2.0']]);
  } finally {
    await ctl.stop();
    await receiver.close();
  }
});

test('a dead webhook neither slows nor fails the report that crosses the threshold', async () => {
  const dead = await startReceiver();
  await dead.close();
  const ctl = await startTestController({ alertWebhook: dead.url, alertThreshold: 0.1, alertMinAttempts: 1 });
  try {
    const token = await enrollAgent(ctl, 'dead-a');
    const started = performance.now();
    const res = await postReport(ctl, token, buildReport('dead-a', { events: [buildChange('shop', '1.0.0', '1.1.0', 'rollback-failed')] }));
    assert.is(res.status, 200);
    assert.ok(performance.now() - started < 1000);
    // The alert is recorded even though it cannot be delivered.
    let alerts: FleetSummary['alerts'] = [];
    for (let i = 0; i < 50 && alerts.length === 0; i++) {
      alerts = (await adminJson<FleetSummary>(ctl, '/api/v1/fleet')).alerts;
      if (alerts.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    assert.is(alerts.length, 1);
  } finally {
    await ctl.stop();
  }
});

test.run();
