// Issue 16 point 5, the console's shell in real headless Chromium against the real `duck console`
// process: the one-time link logs in and shows the dashboard, a reused or wrong link shows how to
// get a new one, a foreign page's POST is refused without spending the link, and the sidebar is
// reachable from the keyboard. Screenshots (desktop and narrow) go to test-artifacts/.
import type { Page } from 'playwright-core';
import { createServer, type Server } from 'node:http';
import * as assert from 'uvu/assert';
import { browserSuite, openPage, type BrowserContextOf } from '../helpers/browser.js';
import type { Channel, ChannelHost } from '../helpers/channel-builder.js';
import { writeGroup, writeRelease } from '../helpers/channel-fixtures.js';
import type { Served } from '../helpers/console.js';
import { CONSOLE_VIEWPORTS, consoleScreenshot, openConsolePage, serveConsoleEachTest, verifiedShopNode } from '../helpers/console.js';
import type { AgentNode } from '../../examples/harness/agent-node.js';

interface Ctx extends BrowserContextOf {
  host: ChannelHost;
  ch: Channel;
  node: AgentNode;
  served: Served | null;
}

const text = async (page: Page, selector: string): Promise<string> => ((await page.locator(selector).first().textContent()) ?? '').trim();

const { it, test } = await browserSuite<Ctx>(
  'console: login and the shell in Chromium',
  async (ctx) => {
    // The node has accepted the channel, so the dashboard has a commit and apps to show.
    ({ host: ctx.host, ch: ctx.ch, node: ctx.node } = await verifiedShopNode('duck-console-pages-'));
  },
  async (ctx) => ctx.host?.close(),
);

serveConsoleEachTest(it);

test('the link logs in and shows the dashboard: group, accepted commit, apps; screenshots at both widths', async (ctx) => {
  const page = await openConsolePage(ctx.browser, ctx.served!, ctx.pageProblems);
  const status = (await ctx.node.duck('status', '--json')).json as { group: string; channel: { accepted: { commit: string } }; agent: { current: string }; apps: Array<{ app: string }> };
  assert.is(await page.evaluate('location.href'), `${ctx.served!.origin}/`, 'the token left the address bar');
  assert.ok((await text(page, '.panel.node')).includes(status.group));
  assert.ok((await text(page, '.panel.node')).includes(status.channel.accepted.commit.slice(0, 12)));
  assert.is(await text(page, '.panel.node .agent-version'), status.agent.current, "the agent's own version");
  const apps = await page.locator('.apps-table tbody .app-name').allTextContents();
  assert.equal(apps, status.apps.map((a) => a.app));
  assert.match(await text(page, '.recent-activity'), /Nothing yet/);
  // The update notice: Upgrade now, or Schedule on the app's page.
  await page.getByRole('link', { name: 'Schedule the upgrade of shop' }).click();
  await page.locator('main h1', { hasText: 'shop' }).waitFor();
  assert.is(await page.evaluate('location.hash'), '#/app/shop');
  await page.goBack();
  await page.locator('.apps-table').waitFor();
  await consoleScreenshot(page, 'console-dashboard-desktop.png');
  await page.setViewportSize(CONSOLE_VIEWPORTS.narrow);
  await consoleScreenshot(page, 'console-dashboard-narrow.png');
  assert.equal(ctx.pageProblems, []);
});

test('the same link again shows how to get a new one, and no API answers', async (ctx) => {
  const first = await openConsolePage(ctx.browser, ctx.served!, ctx.pageProblems);
  await first.context().close();
  const { page } = await openPage(ctx.browser, []);
  await page.goto(`${ctx.served!.origin}/login#${ctx.served!.token}`);
  await page.locator('.panel.login').waitFor();
  assert.match(await text(page, '.panel.login'), /used already or never issued/);
  assert.match(await text(page, '.panel.login'), /duck console --open/);
  assert.is(await page.locator('.apps-table').count(), 0);
  assert.is(await page.locator('#nav a').count(), 0, 'no pages without a session');
});

test('a wrong link is refused with its reason', async (ctx) => {
  const { page } = await openPage(ctx.browser, []);
  await page.goto(`${ctx.served!.origin}/login#${ctx.served!.token.slice(0, -2)}xx`);
  await page.locator('.panel.login').waitFor();
  assert.match(await text(page, '.panel.login'), /not the current one/);
});

test("a foreign page's POST to the console is refused and does not spend the link", async (ctx) => {
  const attacker: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>elsewhere</title>');
  });
  await new Promise<void>((ready) => attacker.listen(0, '127.0.0.1', ready));
  try {
    const { port } = attacker.address() as { port: number };
    const { page } = await openPage(ctx.browser, []);
    await page.goto(`http://127.0.0.1:${port}/`);
    // A no-cors POST leaves the browser with the foreign Origin; its answer is opaque to the page.
    const sent = await page.evaluate(
      `fetch(${JSON.stringify(`${ctx.served!.origin}/api/login`)}, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ token: ${JSON.stringify(ctx.served!.token)} }) }).then(() => 'sent', (e) => String(e))`,
    );
    assert.is(sent, 'sent');
    const console = await openConsolePage(ctx.browser, ctx.served!, ctx.pageProblems);
    assert.is(await console.locator('.apps-table').count(), 1, 'the link still logs in: the foreign POST spent nothing');
  } finally {
    await new Promise<void>((done) => attacker.close(() => done()));
  }
});

test('a console beside another writer shows what that writer accepted since, not what it read at start', async (ctx) => {
  const page = await openConsolePage(ctx.browser, ctx.served!, ctx.pageProblems);
  await writeRelease(ctx.ch, 'shop', '1.2.0');
  await writeGroup(ctx.ch, 'production', { shop: '1.2.0' });
  const tip = await ctx.ch.commit('shop 1.2.0', ctx.host.rootKey);
  await ctx.ch.publish();
  // duck verify is the writer here (no duck run): it takes the lock, accepts the tip, writes the state.
  const verified = await ctx.node.duck('verify');
  assert.is(verified.code, 0, verified.stderr);
  await page.reload();
  await page.locator('.panel.node').waitFor();
  assert.ok((await text(page, '.panel.node')).includes(tip.slice(0, 12)), 'the dashboard shows the commit duck verify accepted');
  assert.ok((await page.locator('.apps-table').textContent())?.includes('1.2.0'));
  assert.equal(ctx.pageProblems, []);
});

test('keyboard: the skip link, then the sidebar, are reachable with Tab', async (ctx) => {
  const page = await openConsolePage(ctx.browser, ctx.served!, ctx.pageProblems);
  await page.keyboard.press('Tab');
  assert.is(await page.evaluate('document.activeElement.textContent'), 'Skip to content');
  await page.keyboard.press('Tab');
  assert.is(await page.evaluate('document.activeElement.closest("nav")?.id'), 'nav');
  assert.is(await page.evaluate('document.activeElement.getAttribute("aria-current")'), 'page');
  assert.equal(ctx.pageProblems, []);
});

it.run();
