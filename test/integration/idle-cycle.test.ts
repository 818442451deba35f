// Issue 13: an idle daemon's poll (tip, overlay and state unchanged) keeps its last decisions and
// writes no state; the clock crossing an edge of those decisions (here a hold's end) decides again,
// and the check time is written once a minute (CHECK_RECORD_MS).
import { writeFile } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadOverlay } from '../../agent/src/adapters/overlay-file.js';
import { CHECK_RECORD_MS } from '../../agent/src/core/channel-record.js';
import type { CycleOutcome } from '../../agent/src/node/cycle.js';
import { decisionReuse, runCycle } from '../../agent/src/node/cycle.js';
import type { NodeParts } from '../../agent/src/node/wiring.js';
import { wireNode } from '../../agent/src/node/wiring.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeBasicChannel } from '../helpers/channel-fixtures.js';

const Idle = suite('an idle daemon poll');

Idle('a no-change poll keeps its decisions and writes no state, until the clock crosses their edge or a minute passes', async () => {
  const host = await startChannelHost('duck-idle-cycle-');
  try {
    const { ch, node } = await host.fresh();
    await writeBasicChannel(ch, [host.rootKey]);
    await ch.commit('shop 1.0.0', host.rootKey);
    await ch.publish();
    const t0 = Date.now();
    const holdEnds = new Date(t0 + 30_000).toISOString();
    await writeFile(node.overlayFile, `approval: manual\nhold: { reason: audit week, until: "${holdEnds}" }\n`);
    const overlay = await loadOverlay(node.overlayFile);
    let now = t0;
    const wired = await wireNode({ configFile: node.configFile, clock: () => new Date(now) });
    let writes = 0;
    const agent: NodeParts = {
      ...wired,
      state: {
        ...wired.state,
        update: (change) => {
          writes++;
          return wired.state.update(change);
        },
      },
    };
    const reuse = decisionReuse();
    const poll = (atMs: number): Promise<CycleOutcome> => {
      now = atMs;
      const env = (): never => {
        throw new Error('an idle poll planned a change');
      };
      return runCycle({ node: agent, log: () => undefined, overlay, env, reuse }, { fetch: true });
    };
    const shop = (o: CycleOutcome) => o.resolve.resolved!.desired.apps.find((a) => a.app === 'shop')!;

    const first = await poll(t0);
    assert.ok(writes > 0, 'the first accept is recorded');
    assert.not.ok(first.resolve.reused);
    assert.is(shop(first).waitingFor, 'hold');
    const recorded = writes;

    const second = await poll(t0 + 5_000);
    assert.is(second.fetch.status, 'unchanged');
    assert.is(writes, recorded, 'an unchanged tip inside the minute writes no state');
    assert.ok(second.resolve.reused, 'the decisions are kept');
    assert.is(second.plan, first.plan);
    assert.is(shop(second).waitingFor, 'hold');

    const afterHold = await poll(t0 + 31_000);
    assert.not.ok(afterHold.resolve.reused, "the hold's end is an edge: decided again");
    assert.is(shop(afterHold).waitingFor, 'approval');
    assert.is(writes, recorded);

    const kept = await poll(t0 + 35_000);
    assert.ok(kept.resolve.reused);
    assert.is(shop(kept).waitingFor, 'approval');

    await poll(t0 + CHECK_RECORD_MS + 1_000);
    assert.is(writes, recorded + 1, 'the check time is written once a minute');
    assert.is(agent.state.read().channel.lastCheckAt, new Date(t0 + CHECK_RECORD_MS + 1_000).toISOString());
    const next = await poll(t0 + CHECK_RECORD_MS + 2_000);
    assert.ok(next.resolve.reused);
    assert.is(writes, recorded + 1);

    // Back in time (a clock stepped back): nothing kept is trusted.
    const back = await poll(t0 + CHECK_RECORD_MS);
    assert.not.ok(back.resolve.reused);
  } finally {
    await host.close();
  }
});

Idle.run();
