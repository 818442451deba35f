// DESIGN §4.7: the overlay's `pin: { agent: <version> }` pins the agent's own build on a node.
// `duck pin agent` checks the version against agents/<version>/agent.yaml of the accepted commit
// of a real signed channel and keeps the operator's comments; `duck unpin agent` takes it away; and
// the node never takes the pin for an app named agent.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { decideAgentOnNode } from '../../agent/src/node/agent-decision.js';
import { readAcceptedLocally } from '../../agent/src/node/decisions.js';
import { wireNode } from '../../agent/src/node/wiring.js';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeBasicChannel, writeGroup } from '../helpers/channel-fixtures.js';

interface Ctx {
  host: ChannelHost;
  node: AgentNode;
  overlay: string;
}

const Pin = suite<Ctx>('duck pin agent', {} as Ctx);

const OVERLAY = `# Overlay of this node: see ticket OPS-1234.
pin:
  # shop stays on 1.0.0 until the API migration
  shop: 1.0.0          # owner: web team
`;

Pin.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-agent-pin-');
  const { ch, node } = await ctx.host.fresh();
  await writeBasicChannel(ch, [ctx.host.rootKey]);
  await writeGroup(ch, 'production', { shop: '1.0.0' }, { agent: { version: '0.2.0' } });
  const artifact = { url: 'https://dl.example.com/duck/duck-0.2.0-linux-x64.tar.gz', sha256: 'a'.repeat(64), size: 10 };
  await ch.write('agents/0.2.0/agent.yaml', stringify({ version: '0.2.0', artifacts: { 'linux-x64': artifact } }));
  await ch.commit('agent 0.2.0', ctx.host.rootKey);
  await ch.publish();
  ctx.node = node;
  ctx.overlay = join(node.dir, 'overlay.yaml');
  const verified = await node.duck('verify');
  assert.is(verified.code, 0, verified.stderr);
});

Pin.after(async (ctx) => {
  await ctx.host.close();
});

Pin.before.each(async (ctx) => {
  await writeFile(ctx.overlay, OVERLAY);
});

Pin('duck pin agent <version> checks agents/<version>/agent.yaml and writes pin.agent, comments kept', async (ctx) => {
  const r = await ctx.node.duck('pin', 'agent', '0.2.0', '--json');
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.json, { ok: true, overlay: ctx.overlay, changed: true, app: 'agent', version: '0.2.0', previous: null, checked: true });
  assert.is(await readFile(ctx.overlay, 'utf8'), `${OVERLAY}  agent: 0.2.0\n`);
  const unpin = await ctx.node.duck('unpin', 'agent');
  assert.is(unpin.code, 0, unpin.stderr);
  assert.is(await readFile(ctx.overlay, 'utf8'), OVERLAY);
});

Pin('duck pin agent of a version the accepted commit does not publish exits 3, naming agents/<version>/agent.yaml', async (ctx) => {
  const r = await ctx.node.duck('pin', 'agent', '9.9.9');
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /has no agent release 9\.9\.9 \(agents\/9\.9\.9\/agent\.yaml\); nothing was pinned/);
  assert.is(await readFile(ctx.overlay, 'utf8'), OVERLAY);
});

Pin('a node with pin.agent decides its apps as before: no app named agent appears', async (ctx) => {
  await writeFile(ctx.overlay, `${OVERLAY}  agent: 0.2.0\n`);
  const r = await ctx.node.duck('check', '--json');
  assert.is(r.code, 0, r.stderr);
  const apps = (r.json as { apps: Array<{ app: string; desired: string | null }> }).apps;
  assert.equal(
    apps.map((a) => [a.app, a.desired]),
    [['shop', '1.0.0']],
  );
});

Pin("the node's agent decision: the group's version applies with its release read from the accepted commit; a pin without a release waits, naming it", async (ctx) => {
  const node = await wireNode({ configFile: ctx.node.configFile });
  const view = await readAcceptedLocally(node);
  assert.ok(view);
  const d = await decideAgentOnNode(node, view, { running: '0.1.0', overlay: {} });
  assert.equal([d.decision, d.target, d.reason], ['apply', '0.2.0', 'no maintenance windows set: agent 0.1.0 -> 0.2.0 now']);
  assert.equal(Object.keys(d.release?.artifacts ?? {}), ['linux-x64']);
  assert.is(d.release?.commit, view.commit);
  const running = await decideAgentOnNode(node, view, { running: '0.2.0', overlay: {} });
  assert.equal([running.decision, running.release], ['none', null]);
  const pinned = await decideAgentOnNode(node, view, { running: '0.1.0', overlay: { pin: { agent: '0.3.0' } } });
  assert.is(pinned.decision, 'wait');
  assert.match(pinned.reason, new RegExp(`but its release cannot be used: ${ctx.overlay.replaceAll('.', '\\.')}: /pin/agent: agent version 0\\.3\\.0 has no agents/0\\.3\\.0/agent\\.yaml`));
});

Pin.run();
