// The dashboard's rollout views in a real headless Chromium against a real controller on
// 127.0.0.1, fed over real HTTP: per group and app the nodes by place under the rollout bar, and a
// rollout's own page with its version, commits and timeline, as GET /api/v1/rollouts counts them.
import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import type { AppStatus } from '../../schemas/index.js';
import { artifactPath, browserSuite, signIn, type BrowserContextOf } from '../helpers/browser.js';
import { buildApp, buildChange, reportAs, startTestController, type TestController } from '../helpers/controller.js';

interface Ctx extends BrowserContextOf {
  ctl: TestController;
  page: Page;
}

const hello = (current: string | null, overrides: Partial<AppStatus> = {}): AppStatus => buildApp('hello', current, { groupVersion: '1.2.0', desired: '1.2.0', ...overrides });
const at = (s: number): string => new Date(Date.UTC(2026, 2, 1, 12, 0, s)).toISOString();

const { it, test } = await browserSuite<Ctx>(
  'dashboard rollouts in headless Chromium',
  async (ctx) => {
    ctx.ctl = await startTestController();
    await reportAs(ctx.ctl, 'cn-1', { group: 'canary', apps: [hello('1.2.0')], events: [buildChange('hello', '1.1.0', '1.2.0', 'applied', { at: at(1) })] });
    await reportAs(ctx.ctl, 'cn-2', { group: 'canary', apps: [hello('1.2.0')], events: [buildChange('hello', '1.1.0', '1.2.0', 'applied', { at: at(2) })] });
    await reportAs(ctx.ctl, 'cn-3', {
      group: 'canary',
      apps: [hello('1.1.0', { state: 'failed', failedVersion: '1.2.0', decision: 'wait', waitingFor: 'failed' })],
      events: [buildChange('hello', '1.1.0', '1.2.0', 'rolled-back', { at: at(3) })],
    });
    await reportAs(ctx.ctl, 'cn-4', { group: 'canary', apps: [hello('1.1.0', { decision: 'wait', waitingFor: 'rollout' })] });
    ctx.page = await signIn(ctx.browser, ctx.ctl, ctx.pageProblems);
  },
  async (ctx) => ctx.ctl?.stop(),
);

/** The named data attributes of each node the selector finds, in page order. */
async function dataOf(page: Page, selector: string, ...names: string[]): Promise<Array<Array<string | null>>> {
  return Promise.all((await page.locator(selector).all()).map((node) => Promise.all(names.map((n) => node.getAttribute(`data-${n}`)))));
}
const places = (page: Page, scope: string): Promise<Array<Array<string | null>>> => dataOf(page, `${scope} .rollout-places .tag`, 'place', 'count');

test('the overview shows, under the rollout bar, where each node of the rollout stands', async ({ page }) => {
  const scope = 'article.group[data-group="canary"] .app-versions[data-app="hello"] .rollout-progress';
  await page.locator(scope).waitFor();
  assert.is(await page.locator(scope).getAttribute('data-version'), '1.2.0');
  assert.equal(await places(page, scope), [
    ['healthy', '2'],
    ['releaseFailed', '1'],
    ['rollout', '1'],
  ]);
});

test("the rollout's page: its version, commits, nodes by place and the timeline, newest first", async ({ page }) => {
  await page.click('article.group[data-group="canary"] .app-versions[data-app="hello"] a.rollout-link');
  await page.locator('.rollout-page[data-group="canary"][data-app="hello"]').waitFor();
  assert.is(await page.title(), 'Duck · rollout of hello in canary');
  assert.is(await page.locator('.rollout-version').textContent(), '1.2.0');
  assert.match((await page.locator('.rollout-head').textContent()) ?? '', /2 of 4 nodes in the rollout run it healthy/);
  assert.equal(await places(page, '.places-panel'), [
    ['healthy', '2'],
    ['releaseFailed', '1'],
    ['rollout', '1'],
  ]);
  assert.equal(await dataOf(page, '.rollout-commits li', 'commit'), [['a'.repeat(40)]]);
  assert.equal(await dataOf(page, 'table.timeline tbody tr', 'agent', 'outcome'), [
    ['cn-3', 'rolled-back'],
    ['cn-2', 'applied'],
    ['cn-1', 'applied'],
  ]);
  assert.equal(await page.locator('table.timeline tbody tr td.num').allTextContents(), ['2', '2', '1'], 'nodes on the version by then');
  await page.screenshot({ path: await artifactPath('dashboard-rollout.png'), fullPage: true });
  await page.click('.rollout-page a.back');
  await page.locator('.tiles .tile[data-state="ok"]').waitFor();
});

test('the page raised no script error and no CSP violation', ({ pageProblems }) => {
  // The signed-out probe before signing in answers 401, which the browser logs as a failed load.
  assert.equal(pageProblems.filter((p) => !/status of 401/.test(p)), []);
});

it.run();
