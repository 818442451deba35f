// --summary-max-age over real HTTP: the fleet summary is served as it was while young, served stale
// while one computation makes the next once it is older, and then shows what was written meanwhile.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { FleetSummary } from '../../controller/src/fleet-summary.js';
import { adminJson, enrollAgent, startTestController } from '../helpers/controller.js';

const test = suite('controller summary max age');

async function total(ctl: Parameters<typeof adminJson>[0]): Promise<{ total: number; generatedAt: string }> {
  const fleet = await adminJson<FleetSummary>(ctl, '/api/v1/fleet');
  return { total: fleet.agents.total, generatedAt: fleet.generatedAt };
}

test('a summary younger than the max age is served as it was; an older one is served once more while the next is made', async () => {
  const maxAgeMs = 1_500;
  const ctl = await startTestController({ summaryMaxAgeMs: maxAgeMs });
  try {
    await enrollAgent(ctl, 'summary-age-1');
    const first = await total(ctl);
    assert.is(first.total, 1);
    await enrollAgent(ctl, 'summary-age-2');
    // Within the max age: the same summary, not the new agent.
    const young = await total(ctl);
    assert.equal(young, first, 'a young summary is served as it was');
    await new Promise((r) => setTimeout(r, maxAgeMs + 100));
    // Past it: the old one is answered at once, and the next is made behind it.
    const stale = await total(ctl);
    assert.equal(stale, first, 'a stale summary is served while the next is computed');
    const deadline = Date.now() + 10_000;
    let fresh = stale;
    while (fresh.total !== 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      fresh = await total(ctl);
    }
    assert.is(fresh.total, 2, 'the summary made after the second enrollment counts it');
    assert.ok(fresh.generatedAt > first.generatedAt);
  } finally {
    await ctl.stop();
  }
});

test('with the default (0) every request computes the summary', async () => {
  const ctl = await startTestController();
  try {
    await enrollAgent(ctl, 'summary-fresh-1');
    assert.is((await total(ctl)).total, 1);
    await enrollAgent(ctl, 'summary-fresh-2');
    assert.is((await total(ctl)).total, 2);
  } finally {
    await ctl.stop();
  }
});

test.run();
