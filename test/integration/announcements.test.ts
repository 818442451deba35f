// Issue 16 point 4: announcements.yaml in a real signed channel, accepted over git smart HTTP, shown
// by `duck status` (a line each, and in --json) only where its targeting and expiry hold;
// acknowledged with `duck announcements ack` and counted by the controller over real HTTP.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { installedApp, readAgentState, writeAgentState } from '../helpers/agent-state.js';
import type { TestController } from '../helpers/controller.js';
import { announcementCountsOf, startTestController } from '../helpers/controller.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeBasicChannel, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';

interface Ctx {
  host: ChannelHost;
  ctl: TestController;
}

const Notices = suite<Ctx>('announcements through the channel', {} as Ctx);

Notices.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-announce-');
  ctx.ctl = await startTestController();
});

Notices.after(async (ctx) => {
  await ctx.host.close();
  await ctx.ctl.stop();
});

interface StatusJson {
  announcements: { inForce: Array<{ id: string; severity: string }>; unreadable: string | null };
}

/** A node on group production that accepted a channel with `announcements` and runs shop 1.1.0. */
async function nodeWith(ctx: Ctx, announcements: string, opts: { report?: boolean } = {}): Promise<AgentNode> {
  const controller = { url: ctx.ctl.url, enrollToken: ctx.ctl.enrollToken, interval: '1h' };
  const { ch, node } = await ctx.host.fresh(opts.report ? { controller } : {});
  await writeBasicChannel(ch, [ctx.host.rootKey]);
  await writeRelease(ch, 'shop', '1.1.0');
  await writeGroup(ch, 'production', { shop: '1.1.0' });
  await ch.write('announcements.yaml', announcements);
  await ch.commit('shop and notices', ctx.host.rootKey);
  await ch.publish();
  const verified = await node.duck('verify', '--json');
  assert.is(verified.code, 0, verified.stderr);
  const state = await readAgentState(node.stateDir);
  state.apps.shop = installedApp('1.1.0');
  await writeAgentState(node.stateDir, state);
  return node;
}

const NOTICES = `# notices for the fleet
- id: shop-1x
  title: shop 1.x reaches its end of life
  body: Move to **2.0**.
  severity: critical
  expires: 2099-01-01T00:00:00Z
  target: { groups: [production], apps: { shop: ">=1.0.0 <2.0.0" } }
- id: shop-2x
  title: shop 2.x only
  body: ''
  severity: info
  expires: 2099-01-01T00:00:00Z
  target: { apps: { shop: ">=2.0.0" } }
- id: staging-only
  title: staging only
  body: ''
  severity: info
  expires: 2099-01-01T00:00:00Z
  target: { groups: [staging] }
- id: old-agents
  title: old agents
  body: ''
  severity: warning
  expires: 2099-01-01T00:00:00Z
  target: { agent: "<0.0.1" }
- id: expired
  title: over
  body: ''
  severity: info
  expires: 2020-01-01T00:00:00Z
- id: everyone
  title: maintenance of the registry on Saturday
  body: ''
  severity: warning
  expires: 2099-01-01T00:00:00Z
`;

Notices('duck status shows a line per announcement in force, and --json carries them', async (ctx) => {
  const node = await nodeWith(ctx, NOTICES);
  const json = await node.duck('status', '--json');
  assert.is(json.code, 0, json.stderr);
  const status = json.json as unknown as StatusJson;
  assert.equal(
    status.announcements.inForce.map((a) => a.id),
    ['shop-1x', 'everyone'],
  );
  assert.is(status.announcements.unreadable, null);
  const text = await node.duck('status');
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, /^notice\s+\[critical\] shop 1\.x reaches its end of life \(shop-1x, until 2099-01-01T00:00:00Z\)$/m);
  assert.match(text.stdout, /^notice\s+\[warning\] maintenance of the registry on Saturday \(everyone, until 2099-01-01T00:00:00Z\)$/m);
  assert.not.match(text.stdout, /staging only|old agents|over|shop 2\.x/);
});

Notices('a notice file that does not read is named in duck status and holds back nothing', async (ctx) => {
  const node = await nodeWith(ctx, '- id: no-expiry\n  title: t\n  body: b\n  severity: info\n');
  const json = await node.duck('status', '--json');
  assert.is(json.code, 0, json.stderr);
  const status = json.json as unknown as StatusJson & { apps: Array<{ app: string }> };
  assert.equal(status.announcements.inForce, []);
  assert.match(status.announcements.unreadable ?? '', /^announcements\.yaml:1:3: \/0: missing required key "expires"/);
  assert.ok(status.apps.some((a) => a.app === 'shop'), 'the release is still decided on');
});

Notices('duck announcements lists the notices in force, unread until duck announcements ack, then marked in duck status too', async (ctx) => {
  const node = await nodeWith(ctx, NOTICES);
  const before = await node.duck('announcements');
  assert.is(before.code, 0, before.stderr);
  assert.match(before.stdout, /^shop-1x\s+\[critical\] shop 1\.x reaches its end of life\s+\(until 2099-01-01T00:00:00Z; unread\)$/m);
  assert.match(before.stdout, /^ {4}Move to \*\*2\.0\*\*\.$/m, 'the body is shown');
  const acked = await node.duck('announcements', 'ack', 'shop-1x');
  assert.is(acked.code, 0, acked.stderr);
  assert.match(acked.stdout, /^shop-1x acknowledged at \d{4}-/m);
  const state = await readAgentState(node.stateDir);
  assert.equal(Object.keys(state.acknowledged), ['shop-1x']);
  const list = await node.duck('announcements', '--json');
  const listed = (list.json as unknown as { announcements: Array<{ id: string; acknowledgedAt: string | null }> }).announcements;
  assert.equal(listed.map((a) => [a.id, a.acknowledgedAt]), [['shop-1x', state.acknowledged['shop-1x']], ['everyone', null]]);
  const status = await node.duck('status');
  assert.match(status.stdout, /^notice\s+\[critical\] shop 1\.x reaches its end of life \(shop-1x, until 2099-01-01T00:00:00Z, acknowledged \d{4}-[^)]+\)$/m);
  assert.match(status.stdout, /^notice\s+\[warning\] maintenance of the registry on Saturday \(everyone, until 2099-01-01T00:00:00Z\)$/m);
});

Notices('acknowledging an unknown, expired or not-targeted id is an error naming why, and records nothing', async (ctx) => {
  const node = await nodeWith(ctx, NOTICES);
  for (const [id, why] of [
    ['no-such', /no announcement no-such in the accepted channel commit/],
    ['expired', /announcement expired expired at 2020-01-01T00:00:00Z/],
    ['staging-only', /announcement staging-only is not for this node/],
  ] as const) {
    const res = await node.duck('announcements', 'ack', id);
    assert.is(res.code, 1, `${id}: ${res.stdout}`);
    assert.match(res.stderr, why);
  }
  const usage = await node.duck('announcements', 'read', 'shop-1x');
  assert.is(usage.code, 2, usage.stderr);
  assert.equal((await readAgentState(node.stateDir)).acknowledged, {});
});

Notices('the acknowledgements kept are only of notices still in the accepted file', async (ctx) => {
  const node = await nodeWith(ctx, NOTICES);
  const state = await readAgentState(node.stateDir);
  state.acknowledged = { 'long-gone': '2026-01-01T00:00:00.000Z' };
  await writeAgentState(node.stateDir, state);
  const acked = await node.duck('announcements', 'ack', 'everyone');
  assert.is(acked.code, 0, acked.stderr);
  assert.equal(Object.keys((await readAgentState(node.stateDir)).acknowledged), ['everyone']);
});

Notices('the report carries the notices in force and those acknowledged; the controller counts them per id', async (ctx) => {
  const node = await nodeWith(ctx, NOTICES, { report: true });
  const acked = await node.duck('announcements', 'ack', 'shop-1x');
  assert.is(acked.code, 0, acked.stderr);
  // The cycle's apply step finds shop 1.1.0 installed and nothing to change: no engine is needed.
  const run = await node.duck('run', '--once');
  assert.is(run.code, 0, run.stderr);
  const announcements = await announcementCountsOf(ctx.ctl);
  assert.equal(announcements, [
    { id: 'everyone', title: 'maintenance of the registry on Saturday', severity: 'warning', seen: 1, acknowledged: 0 },
    { id: 'shop-1x', title: 'shop 1.x reaches its end of life', severity: 'critical', seen: 1, acknowledged: 1 },
  ]);
});

Notices.run();
