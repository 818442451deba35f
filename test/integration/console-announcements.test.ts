// Issue 16 points 4 and 5, in real headless Chromium against the real `duck console` process and a
// real controller over HTTP: an announcement published in the signed channel shows in the
// console's banner (its Markdown rendered, raw HTML and unsafe links not), a critical one stays
// until acknowledged with the keyboard-reachable button, an info one is dismissed for the session,
// and once the node reports, the controller counts the notice seen 1, acknowledged 1 (its API and
// its dashboard's Announcements panel).
import { appendFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { startDaemon } from '../../examples/harness/daemon.js';
import { installedApp, readAgentState, writeAgentState } from '../helpers/agent-state.js';
import { artifactPath, browserSuite, signIn, type BrowserContextOf } from '../helpers/browser.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeBasicChannel, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';
import type { Served } from '../helpers/console.js';
import { call, consoleScreenshot, freePort, login, openConsolePage, serveConsole, sessionOf, stopConsole } from '../helpers/console.js';
import type { TestController } from '../helpers/controller.js';
import { announcementCountsOf, startTestController } from '../helpers/controller.js';

interface Ctx extends BrowserContextOf {
  host: ChannelHost;
  ctl: TestController;
  node: AgentNode;
  served: Served | null;
}

const NOTICES = `- id: shop-eol
  title: shop 1.x reaches its end of life
  body: |
    Move to **shop 2.0** before March. See [the notes](https://example.com/shop-2).

    <script>window.injected = true</script> <img src=x onerror="window.injected = true">
    [a trap](javascript:window.injected=true)
  severity: critical
  expires: 2099-01-01T00:00:00Z
  target: { groups: [production] }
- id: registry-maint
  title: registry maintenance on Saturday
  body: Pulls may fail between *02:00 and 03:00 UTC*.
  severity: info
  expires: 2099-01-01T00:00:00Z
`;

const { it, test } = await browserSuite<Ctx>(
  'console: announcements in Chromium',
  async (ctx) => {
    ctx.host = await startChannelHost('duck-console-notices-');
    ctx.ctl = await startTestController();
    const { ch, node } = await ctx.host.fresh({ controller: { url: ctx.ctl.url, enrollToken: ctx.ctl.enrollToken, interval: '1h' } });
    await writeBasicChannel(ch, [ctx.host.rootKey]);
    await writeRelease(ch, 'shop', '1.1.0');
    await writeGroup(ch, 'production', { shop: '1.1.0' });
    await ch.write('announcements.yaml', NOTICES);
    await ch.commit('shop 1.1.0 and notices', ctx.host.rootKey);
    await ch.publish();
    ctx.node = node;
    const verified = await node.duck('verify');
    if (verified.code !== 0) throw new Error(`duck verify: ${verified.stderr}`);
    // shop 1.1.0 runs here as its group asks: the report's cycle has nothing to change, no engine needed.
    const state = await readAgentState(node.stateDir);
    state.apps.shop = installedApp('1.1.0');
    await writeAgentState(node.stateDir, state);
  },
  async (ctx) => {
    if (ctx.served) await stopConsole(ctx.served);
    await ctx.ctl?.stop();
    await ctx.host?.close();
  },
);

const banner = (page: Page) => page.locator('#announcements');
const notice = (page: Page, id: string) => page.locator(`#announcements .notice[data-notice="${id}"]`);

test('the banner shows the notices; the critical one stays until acknowledged from the keyboard; the controller counts it', async (ctx) => {
  ctx.served = await serveConsole(ctx.node, '--port', '0');
  const page = await openConsolePage(ctx.browser, ctx.served, ctx.pageProblems);
  const critical = notice(page, 'shop-eol');
  await critical.waitFor();
  assert.is(await critical.getAttribute('role'), 'alert');
  assert.match((await critical.locator('.notice-title').textContent()) ?? '', /shop 1\.x reaches its end of life/);
  // The Markdown is rendered; the author's raw HTML arrives as text and the javascript: link as no link.
  assert.is(await critical.locator('.notice-body strong').textContent(), 'shop 2.0');
  assert.equal(await critical.locator('.notice-body a').evaluateAll((links) => links.map((a) => [a.getAttribute('href'), a.getAttribute('rel')])), [
    ['https://example.com/shop-2', 'noopener noreferrer'],
  ]);
  assert.is(await critical.locator('.notice-body script, .notice-body img').count(), 0);
  assert.match((await critical.locator('.notice-body').textContent()) ?? '', /<script>window\.injected = true<\/script>/);
  assert.is(await page.evaluate('window.injected === undefined'), true);
  assert.is(await critical.locator('button[data-act="dismiss"]').count(), 0, 'a critical notice cannot be dismissed');
  const info = notice(page, 'registry-maint');
  assert.is(await info.locator('.notice-body em').textContent(), '02:00 and 03:00 UTC');
  await consoleScreenshot(page, 'console-announcements-banner.png');

  // Dismissed for the session: the info notice stays away when the page is shown again.
  await info.locator('button[data-act="dismiss"]').click();
  await info.waitFor({ state: 'detached' });
  await page.reload();
  await critical.waitFor();
  assert.is(await info.count(), 0, 'a dismissed notice stays dismissed for the session');

  // Keyboard: Tab reaches the critical notice's Acknowledge button, Enter presses it.
  let reached = false;
  for (let i = 0; i < 20 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = (await page.evaluate('`${document.activeElement?.closest(".notice")?.dataset.notice}/${document.activeElement?.dataset.act}`')) === 'shop-eol/acknowledge';
  }
  assert.ok(reached, 'the Acknowledge button is reachable with Tab');
  await page.keyboard.press('Enter');
  await critical.waitFor({ state: 'detached' });
  await page.reload();
  await page.locator('main h1', { hasText: 'Dashboard' }).waitFor();
  assert.is(await banner(page).locator('.notice').count(), 0, 'acknowledged: the banner is empty on the next page');

  const state = await readAgentState(ctx.node.stateDir);
  assert.equal(Object.keys(state.acknowledged), ['shop-eol'], 'the writer recorded the acknowledgement');
  const run = await ctx.node.duck('run', '--once');
  assert.is(run.code, 0, run.stderr);
  const announcements = await announcementCountsOf(ctx.ctl);
  assert.equal(announcements, [
    { id: 'registry-maint', title: 'registry maintenance on Saturday', severity: 'info', seen: 1, acknowledged: 0 },
    { id: 'shop-eol', title: 'shop 1.x reaches its end of life', severity: 'critical', seen: 1, acknowledged: 1 },
  ]);
  // The controller's dashboard shows the same counts in its Announcements panel.
  // The dashboard probes its API before signing in: those 401s are the browser's to log, not errors.
  const dashboardProblems: string[] = [];
  const dashboard = await signIn(ctx.browser, ctx.ctl, dashboardProblems);
  const row = dashboard.locator('.announcements-panel tr[data-announcement="shop-eol"]');
  await row.waitFor();
  assert.equal(await row.locator('td').allTextContents(), ['shop-eol', 'shop 1.x reaches its end of life', 'critical', '1', '1']);
  await dashboard.locator('.announcements-panel').screenshot({ path: await artifactPath('dashboard-announcements-panel.png') });
  assert.equal(ctx.pageProblems, []);
  assert.equal(dashboardProblems.filter((p) => !/status of 401/.test(p)), []);
  await stopConsole(ctx.served);
  ctx.served = null;
});

test('the console API: an unknown id is a 404 naming it, and no session reads nothing', async (ctx) => {
  ctx.served = await serveConsole(ctx.node, '--port', '0');
  const { origin } = ctx.served;
  const anonymous = await call(origin, '/api/announcements');
  assert.is(anonymous.status, 401);
  const cookie = sessionOf(await login(origin, ctx.served.token));
  const listed = await call(origin, '/api/announcements', { headers: { cookie } });
  assert.is(listed.status, 200, listed.text);
  const bodies = (listed.body as { announcements: Array<{ id: string; bodyHtml: string }> }).announcements;
  assert.ok(bodies.every((n) => !/<script|<img/i.test(n.bodyHtml)), 'no raw HTML in a rendered body');
  const unknown = await call(origin, '/api/announcements/no-such/ack', { method: 'POST', headers: { cookie, origin } });
  assert.is(unknown.status, 404);
  assert.match(String(unknown.body?.message), /no announcement no-such/);
  await stopConsole(ctx.served);
  ctx.served = null;
});

test('with duck run serving the console, the acknowledgement is handed to the daemon, the one writer', async (ctx) => {
  const port = await freePort();
  await appendFile(ctx.node.configFile, `console:\n  port: ${port}\n`);
  const daemon = startDaemon(ctx.node);
  try {
    await daemon.waitFor((e) => e.event === 'console', 'the console served');
    const opened = await ctx.node.duck('console', '--open');
    assert.is(opened.code, 0, opened.stderr);
    const link = new URL(opened.stdout.trim());
    const cookie = sessionOf(await login(link.origin, link.hash.slice(1)));
    const acked = await call(link.origin, '/api/announcements/registry-maint/ack', { method: 'POST', headers: { cookie, origin: link.origin } });
    assert.is(acked.status, 200, acked.text);
    const done = await daemon.waitFor((e) => e.event === 'request-done' && e.kind === 'acknowledge', 'the daemon carried the acknowledgement out');
    assert.is(done.ok, true);
    const listed = await call(link.origin, '/api/announcements', { headers: { cookie } });
    const notices = (listed.body as { announcements: Array<{ id: string; acknowledgedAt: string | null }> }).announcements;
    assert.equal(notices.map((n) => [n.id, n.acknowledgedAt !== null]), [['shop-eol', true], ['registry-maint', true]]);
  } finally {
    await daemon.stop();
  }
});

it.run();
