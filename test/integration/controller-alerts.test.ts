// The failure-rate alert over real HTTP: a receiver on loopback gets one JSON POST when a version's
// failure rate in a group crosses the threshold, and a dead webhook never slows or fails a report.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChangeOutcome, FailureBlame, ReportEvent } from '../../schemas/index.js';
import type { AlertPayload } from '../../controller/src/alerts.js';
import type { FleetSummary } from '../../controller/src/fleet-summary.js';
import { adminJson, buildChange, buildFacts, buildReport, enrollAgent, postReport, startTestController, type TestController } from '../helpers/controller.js';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

const test = suite('controller alerts');

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

// ── what counts: nodes, and only the release's faults (issue 12 §12) ─────────────────────────────

interface Fleet {
  ctl: TestController;
  receiver: Receiver;
  /** Enrolls the agent on first use and posts one report with these change events. */
  report(agentId: string, events: ReportEvent[]): Promise<void>;
  /** Fires an alert on another app and waits for it: every alert due before it has been sent by then. */
  sentinel(): Promise<void>;
  close(): Promise<void>;
}

async function alertFleet(threshold: number, minAttempts: number): Promise<Fleet> {
  const receiver = await startReceiver();
  const ctl = await startTestController({ alertWebhook: receiver.url, alertThreshold: threshold, alertMinAttempts: minAttempts });
  const tokens = new Map<string, string>();
  const report = async (agentId: string, events: ReportEvent[]): Promise<void> => {
    let token = tokens.get(agentId);
    if (token === undefined) tokens.set(agentId, (token = await enrollAgent(ctl, agentId, buildFacts({ hostname: agentId, group: 'production' }))));
    const res = await postReport(ctl, token, buildReport(agentId, { events }));
    assert.is(res.status, 200, await res.text());
  };
  return {
    ctl,
    receiver,
    report,
    async sentinel() {
      for (let i = 0; i < minAttempts; i++) await report(`sentinel-${i}`, [buildChange('sentinel', '1.0.0', '9.9.9', 'rolled-back', { blame: 'release' })]);
      await waitFor(() => receiver.received.some((a) => a.app === 'sentinel'), 10_000);
      assert.ok(receiver.received.some((a) => a.app === 'sentinel'), 'the sentinel alert arrived');
    },
    async close() {
      await ctl.stop();
      await receiver.close();
    },
  };
}

const upgrade = (outcome: ChangeOutcome, blame?: FailureBlame): ReportEvent =>
  buildChange('shop', '1.1.0', '1.2.0', outcome, { ...(blame ? { blame } : {}), reason: blame === 'infrastructure' ? 'docker: Cannot connect to the Docker daemon' : 'health: answered 500' });
const shopAlerts = (fleet: Fleet): AlertPayload[] => fleet.receiver.received.filter((a) => a.app === 'shop');

test('a node that fails the same release five times counts once: 1 of 3 nodes stays below a 50% threshold', async () => {
  const fleet = await alertFleet(0.5, 3);
  try {
    await fleet.report('n-1', [upgrade('applied')]);
    await fleet.report('n-2', [upgrade('applied')]);
    // Five attempts of one node: five attempts of seven would be 71%.
    for (let i = 0; i < 5; i++) await fleet.report('n-3', [upgrade('rolled-back', 'release')]);
    await fleet.sentinel();
    assert.equal(shopAlerts(fleet), []);
    const fleetView = await adminJson<FleetSummary>(fleet.ctl, '/api/v1/fleet');
    const row = fleetView.outcomes.find((o) => o.app === 'shop')!;
    assert.equal(row.nodes, { applied: 2, releaseFailed: 1, infrastructureFailed: 0 });
    assert.is(row.rolledBack, 5, 'the attempts are still counted as attempts');
  } finally {
    await fleet.close();
  }
});

test('a killed agent and a Docker outage are the nodes\' faults: no alert, counted apart as infrastructure', async () => {
  const fleet = await alertFleet(0.3, 3);
  try {
    for (const id of ['i-1', 'i-2', 'i-3']) await fleet.report(id, [upgrade('applied')]);
    // An agent from before `blame`: an interrupted change is the node's (killed), never the release's.
    await fleet.report('i-4', [upgrade('interrupted')]);
    await fleet.report('i-5', [upgrade('rolled-back', 'infrastructure')]);
    await fleet.report('i-6', [upgrade('rollback-failed', 'infrastructure'), upgrade('rollback-failed', 'infrastructure')]);
    await fleet.report('i-7', [upgrade('failed')]);
    await fleet.sentinel();
    assert.equal(shopAlerts(fleet), []);
    const view = await adminJson<FleetSummary>(fleet.ctl, '/api/v1/fleet');
    assert.equal(view.outcomes.find((o) => o.app === 'shop')!.nodes, { applied: 3, releaseFailed: 0, infrastructureFailed: 4 });
    assert.ok(view.recentFailures.filter((f) => f.app === 'shop').every((f) => f.blame === 'infrastructure'));
    const metrics = await (await fetch(`${fleet.ctl.url}/metrics`)).text();
    assert.match(metrics, 'duck_change_nodes{group="production",app="shop",version="1.2.0",verdict="infrastructure-failed"} 4');
    assert.match(metrics, 'duck_change_nodes{group="production",app="shop",version="1.2.0",verdict="release-failed"} 0');
  } finally {
    await fleet.close();
  }
});

test('release failures on distinct nodes fire the alert once, in nodes, with infrastructure failures apart', async () => {
  const fleet = await alertFleet(0.5, 3);
  try {
    await fleet.report('r-1', [upgrade('applied')]);
    await fleet.report('r-2', [upgrade('applied')]);
    await fleet.report('r-3', [upgrade('rolled-back', 'release'), upgrade('rolled-back', 'release')]);
    await fleet.report('r-4', [upgrade('rollback-failed', 'infrastructure')]);
    await fleet.report('r-5', [upgrade('interrupted', 'infrastructure')]);
    assert.equal(shopAlerts(fleet), [], '1 of 3 nodes');
    // A node whose engine failed first and whose release then failed: the release's fault stands.
    await fleet.report('r-4', [upgrade('rolled-back', 'release')]);
    await waitFor(() => shopAlerts(fleet).length > 0, 10_000);
    await fleet.report('r-6', [upgrade('rolled-back', 'release')]);
    await fleet.sentinel();
    const alerts = shopAlerts(fleet);
    assert.is(alerts.length, 1);
    const alert = alerts[0]!;
    assert.equal(
      { version: alert.version, attempts: alert.attempts, failures: alert.failures, infrastructureFailures: alert.infrastructureFailures, agents: alert.agents },
      { version: '1.2.0', attempts: 4, failures: 2, infrastructureFailures: 1, agents: ['r-3', 'r-4'] },
    );
    assert.is(alert.rate, 0.5);
  } finally {
    await fleet.close();
  }
});

test.run();
