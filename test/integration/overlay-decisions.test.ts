// DESIGN §4.1 and §4.5: the overlay is watched; an edit changes the decision at once, and a bad
// edit leaves the last good overlay — and so every decision — as it was.
import { writeFile } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { OverlayFile } from '../../schemas/index.js';
import { checkChannel } from '../../agent/src/node/cycle.js';
import type { NodeParts } from '../../agent/src/node/wiring.js';
import { wireNode } from '../../agent/src/node/wiring.js';
import type { OverlayWatch } from '../../agent/src/adapters/overlay-file.js';
import { watchOverlay } from '../../agent/src/adapters/overlay-file.js';
import type { DuckError } from '../../schemas/errors.js';
import { decide } from '../../agent/src/node/decisions.js';
import { agentState, installedApp, writeAgentState } from '../helpers/agent-state.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeBasicChannel, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';

const Overlay = suite('overlay edits change decisions');

Overlay('a watched overlay edit changes the decision; a broken edit keeps the previous one in force', async () => {
  const host = await startChannelHost('duck-overlay-dec-');
  let watch: OverlayWatch | null = null;
  try {
    const { ch, node } = await host.fresh();
    await writeBasicChannel(ch, [host.rootKey]);
    await writeRelease(ch, 'shop', '1.1.0');
    await writeGroup(ch, 'production', { shop: '1.1.0' });
    await ch.commit('1.1.0', host.rootKey);
    await ch.publish();
    await writeAgentState(node.stateDir, agentState({ apps: { shop: installedApp('1.0.0') } }));
    const agent = await wireNode({ configFile: node.configFile });
    const accepted = await verify(agent);
    const view = { commit: accepted.anchor.commit, content: accepted.content, tree: accepted.tree };

    const events: Array<{ overlay: OverlayFile; error: DuckError | null }> = [];
    let notify: () => void = () => undefined;
    watch = await watchOverlay(node.overlayFile, (overlay, error) => {
      events.push({ overlay, error });
      notify();
    });
    const nextEvent = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no overlay event within 5 s')), 5000);
        notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    const decision = async () => (await decide(agent, view, { overlay: watch!.current() })).desired.apps[0]!;

    assert.is((await decision()).decision, 'apply');

    let seen = nextEvent();
    await writeFile(node.overlayFile, '# operator: freeze for the audit\nhold: { reason: audit week }\n');
    await seen;
    const held = await decision();
    assert.is(held.decision, 'wait');
    assert.match(held.reason, /^held: audit week/);

    seen = nextEvent();
    await writeFile(node.overlayFile, 'hold: { reason: audit week\n');
    await seen;
    assert.ok(watch.error(), 'the broken edit is reported');
    assert.match(watch.error()!.message, /overlay\.yaml:\d+:\d+/);
    assert.match((await decision()).reason, /^held: audit week/, 'the last good overlay stays in force');

    seen = nextEvent();
    await writeFile(node.overlayFile, 'pin: { shop: 1.0.0 }\n');
    await seen;
    assert.is(watch.error(), null);
    const pinned = await decision();
    assert.equal([pinned.desired, pinned.decision], ['1.0.0', 'none']);
    assert.ok(events.length >= 3);
  } finally {
    await watch?.close();
    await host.close();
  }
});

Overlay.run();

/** The fetch and accept stages as `duck verify` runs them in-process. */
function verify(node: NodeParts) {
  return checkChannel({ node, log: () => undefined });
}
