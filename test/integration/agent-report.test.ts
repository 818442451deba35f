// The agent's reporter against a real duck-controller over HTTP on loopback, with a real agent
// config and state file: enrollment, delivery exactly once across a controller outage, the
// outbox cap, and a dead controller that never slows the reconcile path.
import { randomUUID } from 'node:crypto';
import * as assert from 'uvu/assert';
import type { ChannelStatus, NodeFacts, ReportEvent } from '../../schemas/index.js';
import { readEnrollToken } from '../../agent/src/node/config.js';
import { statusOf } from '../../agent/src/node/telemetry.js';
import { ensureEnrolled } from '../../agent/src/report/enrollment.js';
import type { NodeParts } from '../../agent/src/node/wiring.js';
import { wireNode } from '../../agent/src/node/wiring.js';
import type { Logger } from '../../agent/src/ports.js';
import type { Reporter } from '../../agent/src/report/reporter.js';
import { createReporter } from '../../agent/src/report/reporter.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { historyEntry, readAgentState } from '../helpers/agent-state.js';
import { adminJson, buildFacts, reportingNode, reportingSuite, startTestController } from '../helpers/controller.js';

interface AgentView {
  agent: { agentId: string; channel: ChannelStatus | null };
  events: ReportEvent[];
}

const Report = reportingSuite('agent reporter', 'report-root');

const FACTS: NodeFacts = buildFacts();
const fastRetry = { minMs: 20, maxMs: 100 };

/** The reporter as the daemon wires it, with the node's id made once as the writer makes it. */
async function reporterFor(agent: NodeParts, log: string[] = []): Promise<Reporter> {
  const agentId = agent.state.read().agentId ?? (await agent.state.update((s) => void (s.agentId ??= randomUUID()))).agentId!;
  const logger: Logger = (event, fields) => void log.push(`${event} ${JSON.stringify(fields ?? {})}`);
  const settings = agent.config.controller!;
  return createReporter({
    state: agent.state,
    clock: agent.clock,
    client: agent.controller!,
    intervalMs: settings.intervalMs,
    outboxLimit: settings.outboxLimit,
    log: logger,
    enroll: (o) => ensureEnrolled({ state: agent.state, client: agent.controller!, clock: agent.clock, agentId, enrollToken: () => readEnrollToken(agent.config), facts: async () => FACTS, log: logger }, o),
    facts: async () => FACTS,
    status: () => statusOf(agent, null),
    backoff: fastRetry,
  });
}

async function addHistory(agent: NodeParts, n: number): Promise<string[]> {
  const ids: string[] = [];
  await agent.state.update((s) => {
    for (let i = 0; i < n; i++) {
      const entry = historyEntry({ id: randomUUID(), at: new Date().toISOString(), from: '1.0.0', to: '1.0.0', outcome: 'backup', reason: `duck backup ${i}` });
      s.history.push(entry);
      ids.push(entry.id);
    }
  });
  return ids;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Report('enrolls once and keeps its id and token: a second start does not enroll again', async (ctx) => {
  const node = await reportingNode(ctx, { tokenFile: true });
  const log: string[] = [];
  const first = await wireNode({ configFile: node.configFile });
  await (await reporterFor(first, log)).stop(5_000);
  const enrolled = first.state.read().controller;
  assert.ok(enrolled, log.join('\n'));
  assert.is(enrolled.url, ctx.ctl.url);
  const again = await wireNode({ configFile: node.configFile });
  await (await reporterFor(again, log)).stop(5_000);
  assert.is(log.filter((l) => l.startsWith('enrolled ')).length, 1, log.join('\n'));
  assert.equal(again.state.read().controller, enrolled);
  const view = await adminJson<AgentView>(ctx.ctl, `/api/v1/agents/${enrolled.agentId}`);
  assert.is(view.agent.agentId, enrolled.agentId);
});

Report('events that happen while the controller is down arrive exactly once after it is back', async (ctx) => {
  // Its own data directory: a stopped test controller keeps it, and one started again on the same
  // port and data is the same controller to the agent (its token is in the stored data).
  const dataDir = await makeTempDir('duck-report-ctl-');
  const first = await startTestController({ dataDir });
  const port = Number(new URL(first.url).port);
  const node = await reportingNode(ctx, { ctl: first, tokenFile: true });
  const agent = await wireNode({ configFile: node.configFile });
  const log: string[] = [];
  const reporter = await reporterFor(agent, log);
  reporter.start();
  const before = await addHistory(agent, 3);
  await reporter.collect();
  await until(() => agent.state.read().outbox.events.length === 0, 'the first events to be acknowledged');

  await first.stop();
  const during = await addHistory(agent, 4);
  await reporter.collect();
  await until(() => log.some((l) => l.startsWith('report-failed') && /"retryInMs":\d+/.test(l)), 'a failed, retried report');
  const more = await addHistory(agent, 2);
  await reporter.collect();
  assert.is(agent.state.read().outbox.events.length, 6, 'nothing is lost while the controller is down');

  const back = await startTestController({ dataDir, port });
  try {
    await until(() => agent.state.read().outbox.events.length === 0, 'the outbox to drain after the restart');
    await reporter.stop(2_000);
    const id = agent.state.read().controller!.agentId;
    const { events } = await adminJson<AgentView>(back, `/api/v1/agents/${id}`);
    const got = events.map((e) => e.id).sort();
    assert.equal(got, [...before, ...during, ...more].sort(), 'every event exactly once');
  } finally {
    await back.stop();
    await removeTempDir(dataDir);
  }
});

Report('a dead controller does not slow the reconcile path: queueing returns at once', async (ctx) => {
  const node = await reportingNode(ctx, { tokenFile: true, controller: { url: 'http://127.0.0.1:9' } });
  const agent = await wireNode({ configFile: node.configFile });
  const reporter = await reporterFor(agent);
  reporter.start();
  await addHistory(agent, 5);
  const started = performance.now();
  await reporter.collect();
  await addHistory(agent, 5);
  await reporter.collect();
  const ms = performance.now() - started;
  assert.ok(ms < 500, `two collects took ${ms.toFixed(0)} ms`);
  assert.is(agent.state.read().outbox.events.length, 10);
  const stopping = performance.now();
  await reporter.stop(300);
  assert.ok(performance.now() - stopping < 2_000, 'the last send is bounded');
  assert.is(agent.state.read().outbox.events.length, 10, 'undelivered events stay queued');
});

Report('past the outbox cap the oldest events are dropped, and the drop is reported once', async (ctx) => {
  const node = await reportingNode(ctx, { tokenFile: true, controller: { outboxLimit: 5 } });
  const agent = await wireNode({ configFile: node.configFile });
  const ids = await addHistory(agent, 12);
  const reporter = await reporterFor(agent);
  await reporter.collect();
  assert.is(agent.state.read().outbox.events.length, 5);
  await reporter.stop(5_000);
  await reporter.stop(5_000);
  const id = agent.state.read().controller!.agentId;
  const { events } = await adminJson<AgentView>(ctx.ctl, `/api/v1/agents/${id}`);
  const drops = events.filter((e) => e.type === 'events-dropped');
  assert.is(drops.length, 1, JSON.stringify(events));
  assert.is(drops[0]!.count, 7);
  assert.equal(events.filter((e) => e.type === 'backup').map((e) => e.id).sort(), ids.slice(7).sort(), 'the newest five arrived');
});

Report('a channel that cannot be fetched reaches the controller as a fetch failure, apart from a refusal', async (ctx) => {
  // The suite's nodes follow a channel nothing answers on.
  const node = await reportingNode(ctx, { tokenFile: true });
  const run = await node.duck('run', '--once');
  assert.is(run.code, 0, run.stderr);
  const { agentId } = (await readAgentState(node.stateDir)).controller!;
  const { agent } = await adminJson<AgentView>(ctx.ctl, `/api/v1/agents/${agentId}`);
  const failure = agent.channel?.fetchFailure;
  assert.ok(failure, JSON.stringify(agent.channel));
  assert.is(failure.reason, 'fetch');
  assert.is(failure.failures, 1);
  assert.ok(Date.parse(failure.nextTryAt) > Date.parse(failure.at));
  assert.is(agent.channel?.refusal, null);
});

Report.run();
