// Issue 16 §2, the upgrade confirmation in real Chromium against the real `duck console` (no
// engine needed: nothing is confirmed here, test/e2e/console-upgrade.test.ts does that): the
// dashboard's Upgrade now opens the versions and the release notes as the channel wrote them —
// shown as text, never as markup —, the Upgrade page lists the apps with an upgrade, and an app
// the node does not have is an error naming it.
import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { browserSuite, type BrowserContextOf } from '../helpers/browser.js';
import type { ChannelHost } from '../helpers/channel-builder.js';
import type { Served } from '../helpers/console.js';
import { openConsolePage, serveConsoleEachTest, verifiedShopNode } from '../helpers/console.js';

interface Ctx extends BrowserContextOf {
  host: ChannelHost;
  node: AgentNode;
  served: Served | null;
}

const NOTES = 'Adds <img src=x onerror="window.hacked=1"> to the **checkout**.';

const text = async (page: Page, selector: string): Promise<string> => ((await page.locator(selector).first().textContent()) ?? '').trim();

const { it, test } = await browserSuite<Ctx>(
  'console: the upgrade confirmation in Chromium',
  async (ctx) => {
    ({ host: ctx.host, node: ctx.node } = await verifiedShopNode('duck-console-upgrade-', { notes: NOTES }));
  },
  async (ctx) => ctx.host?.close(),
);

serveConsoleEachTest(it);

test('Upgrade now opens the versions and the release notes as text; Confirm is a button the keyboard reaches', async (ctx) => {
  const page = await openConsolePage(ctx.browser, ctx.served!, ctx.pageProblems);
  await page.getByRole('link', { name: 'Upgrade shop now' }).click();
  await page.locator('.confirm-upgrade').waitFor();
  assert.is(await page.evaluate('location.hash'), '#/upgrade/shop');
  assert.is(await text(page, '.upgrade-versions .current'), 'not installed');
  assert.is(await text(page, '.upgrade-versions .target'), '1.1.0');
  assert.is(await text(page, '.release-notes'), NOTES);
  assert.is(await page.locator('.release-notes img').count(), 0, 'the notes are text, not markup');
  assert.is(await page.evaluate('window.hacked'), undefined);
  await page.locator('.confirm-upgrade').focus();
  assert.is(await page.evaluate('document.activeElement.textContent'), 'Confirm: upgrade to 1.1.0');
  assert.equal(ctx.pageProblems, []);
});

test('the Upgrade page lists the apps whose asked version is not what runs', async (ctx) => {
  const page = await openConsolePage(ctx.browser, ctx.served!, ctx.pageProblems);
  await page.locator('#nav a', { hasText: 'Upgrade' }).click();
  await page.locator('.upgrade-list').waitFor();
  assert.equal(await page.locator('.upgrade-list a').allTextContents(), ['shop: not installed → 1.1.0']);
  assert.equal(ctx.pageProblems, []);
});

test('an app the node does not have is an error naming it', async (ctx) => {
  const page = await openConsolePage(ctx.browser, ctx.served!, ctx.pageProblems);
  await page.evaluate(`location.hash = '#/upgrade/nosuch'`);
  await page.locator('#message[data-kind="error"]').waitFor();
  assert.match(await text(page, '#message'), /no app "nosuch" in this node's group or overlay/);
  assert.is(await page.locator('.confirm-upgrade').count(), 0);
});

it.run();
