// The controller stopped and started again on the same data while an agent keeps reporting: every
// agent and event answered with 200 survives, events re-sent after the restart are not counted
// twice, and a data file that cannot be read stops the start instead of being overwritten.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startController } from '../../controller/src/server.js';
import type { FleetSummary } from '../../controller/src/fleet-summary.js';
import type { ReportEvent } from '../../schemas/index.js';
import { adminJson, buildChange, buildReport, enrollAgent, postReport, startTestController } from '../helpers/controller.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';

const test = suite('controller restart');

/** A minimal agent outbox: events stay queued until a report carrying them is answered 200. */
class Outbox {
  queued: ReportEvent[] = [];
  delivered: ReportEvent[] = [];
  failures = 0;

  async flush(url: string, token: string, agentId: string): Promise<void> {
    const events = [...this.queued];
    try {
      const res = await postReport({ url }, token, buildReport(agentId, { events }));
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      await res.body?.cancel();
      this.queued = this.queued.slice(events.length);
      this.delivered.push(...events);
    } catch {
      this.failures++;
    }
  }
}

test('agents and events survive a restart while the agent keeps reporting, and re-sent events are not duplicated', async () => {
  const ctl = await startTestController();
  try {
    const token = await enrollAgent(ctl, 'restart-a');
    const outbox = new Outbox();
    for (let round = 0; round < 30; round++) {
      outbox.queued.push(buildChange('shop', `1.0.${round}`, `1.0.${round + 1}`, 'applied'));
      if (round === 10) void ctl.restart();
      await outbox.flush(ctl.url, token, 'restart-a');
    }
    // Let the restart finish, then deliver what is still queued.
    for (let i = 0; i < 50 && outbox.queued.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      await outbox.flush(ctl.url, token, 'restart-a');
    }
    assert.is(outbox.queued.length, 0);
    assert.ok(outbox.failures >= 1, 'some reports met the stopped controller');
    // An agent that lost the answer to a report sends its events again.
    const again = await postReport(ctl, token, buildReport('restart-a', { events: outbox.delivered.slice(-5) }));
    assert.equal(await again.json(), { accepted: 0, duplicates: 5 });
    await ctl.restart();
    const detail = await adminJson<{ events: { id: string }[] }>(ctl, '/api/v1/agents/restart-a');
    assert.is(detail.events.length, 30);
    assert.equal(new Set(detail.events.map((e) => e.id)), new Set(outbox.delivered.map((e) => e.id)));
    const fleet = await adminJson<FleetSummary>(ctl, '/api/v1/fleet');
    assert.is(fleet.agents.total, 1);
    assert.is(fleet.outcomes.reduce((n, o) => n + o.applied, 0), 30);
  } finally {
    await ctl.stop();
  }
});

test('a report answered 200 is already on disk: the data file holds it before any shutdown', async () => {
  const ctl = await startTestController();
  try {
    const token = await enrollAgent(ctl, 'durable-a');
    const event = buildChange('shop', '1.0.0', '1.1.0', 'applied');
    assert.is((await postReport(ctl, token, buildReport('durable-a', { events: [event] }))).status, 200);
    // The data file or the log it names: whatever the store put where, the event is there.
    const files = await readdir(ctl.dataDir);
    const onDisk = (await Promise.all(files.filter((f) => f.endsWith('.json') || f.endsWith('.log')).map((f) => readFile(join(ctl.dataDir, f), 'utf8')))).join('');
    assert.ok(onDisk.includes(event.id));
  } finally {
    await ctl.stop();
  }
});

test('a corrupt data file stops the start with an error naming the file, and is left as it was', async () => {
  const dir = await makeTempDir('duck-controller-corrupt-');
  try {
    const file = join(dir, 'fleet.json');
    await writeFile(file, '{"format": 1, "agents": [');
    const err = await startController({ dataDir: dir, enrollToken: 'e-token', adminToken: 'a-token', port: 0 }).then(
      (running) => running.close().then(() => assert.unreachable('the controller started on a corrupt file')),
      (e: unknown) => e as Error,
    );
    assert.match((err as Error).message, file);
    assert.is(await readFile(file, 'utf8'), '{"format": 1, "agents": [');
  } finally {
    await removeTempDir(dir);
  }
});

test.run();
