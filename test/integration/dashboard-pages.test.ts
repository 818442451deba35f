// The dashboard's agents table over a fleet larger than one page of GET /api/v1/agents (500): it
// shows the first page and how many the fleet has, "Show more" brings the rest, and the 5 s refresh
// keeps every page loaded. Real Chromium, a real controller, 520 agents enrolled over HTTP.
import * as assert from 'uvu/assert';
import { DEFAULT_AGENT_PAGE } from '../../controller/src/agent-query.js';
import { browserSuite, signIn, until, type BrowserContextOf } from '../helpers/browser.js';
import { buildFacts, enrollAgent, startTestController, type TestController } from '../helpers/controller.js';
import type { Page } from 'playwright-core';

const FLEET = DEFAULT_AGENT_PAGE + 20;

interface Ctx extends BrowserContextOf {
  ctl: TestController;
  page: Page;
}

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `paged-${String(i).padStart(4, '0')}`);
const rowIds = (page: Page): Promise<string[]> =>
  page.locator('table.agents tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-agent-id') ?? ''));

const { it, test } = await browserSuite<Ctx>(
  'dashboard agents across pages',
  async (ctx) => {
    ctx.ctl = await startTestController();
    const all = ids(FLEET);
    for (let i = 0; i < all.length; i += 40) {
      await Promise.all(all.slice(i, i + 40).map((id) => enrollAgent(ctx.ctl, id, buildFacts({ hostname: `host-${id}` }))));
    }
    ctx.page = await signIn(ctx.browser, ctx.ctl, ctx.pageProblems);
  },
  async (ctx) => ctx.ctl?.stop(),
);

test('the table shows the first page and the fleet size, "Show more" brings every other agent, and a refresh keeps them', async ({ page }) => {
  await until(() => rowIds(page), (r) => r.length === DEFAULT_AGENT_PAGE, 'the first page of agents');
  assert.is((await page.locator('.table-summary').textContent())?.trim(), `Showing ${DEFAULT_AGENT_PAGE} of ${FLEET} agents.`);
  assert.ok(await page.locator('button.show-more').isVisible(), 'a fleet past one page offers more');
  await page.click('button.show-more');
  const shown = await until(() => rowIds(page), (r) => r.length === FLEET, 'every agent after "Show more"');
  assert.equal([...shown].sort(), ids(FLEET));
  assert.is((await page.locator('.table-summary').textContent())?.trim(), `${FLEET} agents.`);
  assert.is(await page.locator('button.show-more').isVisible(), false);
  const before = await page.locator('#updated').getAttribute('data-at');
  await until(() => page.locator('#updated').getAttribute('data-at'), (at) => at !== before, 'a refresh', 12_000);
  assert.is((await rowIds(page)).length, FLEET, 'the refresh loads the pages shown, not the first alone');
});

test('the page raised no script error and no CSP violation', ({ pageProblems }) => {
  // The signed-out probe before signing in answers 401, which the browser logs as a failed load.
  assert.equal(pageProblems.filter((p) => !/status of 401/.test(p)), []);
});

it.run();
