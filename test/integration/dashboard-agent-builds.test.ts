// The duck agent's own builds on the dashboard (issue 15 point 7), in a real headless Chromium
// against a real controller seeded over HTTP (test/helpers/agent-builds-seed.ts): agent versions
// per group with the one asked for and failed versions flagged, and on an agent's page its agent
// block, the versions that failed there and its self-update events. Screenshots go to test-artifacts/.
import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { FAILED_REASON, SHA_FAILURE, WAIT_REASON, seedAgentBuilds } from '../helpers/agent-builds-seed.js';
import { artifactPath, browserSuite, signIn, until, type BrowserContextOf } from '../helpers/browser.js';
import { startTestController, type TestController } from '../helpers/controller.js';

interface Ctx extends BrowserContextOf {
  ctl: TestController;
  page: Page;
}

const text = async (page: Page, selector: string): Promise<string> => ((await page.locator(selector).first().textContent()) ?? '').trim();
const agentVersions = (group: string): string => `article.group[data-group="${group}"] .agent-versions`;
// Read in one pass in the page, hostnames sort as the ids do.
const rowIds = (page: Page): Promise<Array<string | null>> => page.locator('table.agents tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-agent-id')));
async function screenshot(page: Page, name: string): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: await artifactPath(name), fullPage: true });
}

const { it, test } = await browserSuite<Ctx>(
  'dashboard: the agent\'s own builds',
  async (ctx) => {
    ctx.ctl = await startTestController();
    await seedAgentBuilds(ctx.ctl);
    ctx.page = await signIn(ctx.browser, ctx.ctl, ctx.pageProblems);
  },
  async (ctx) => ctx.ctl?.stop(),
);

test('each group shows its agent versions, the one it asks for marked, and how many run it', async ({ page }) => {
  const production = agentVersions('production');
  await page.locator(production).waitFor();
  assert.is(await page.locator(production).getAttribute('data-desired'), '0.2.0');
  assert.is(await text(page, `${production} .rollout-text`), 'Agent 0.2.0 asked: 2 of 4 run it (50%)');
  const rows = await page.locator(`${production} .version-row`).evaluateAll((nodes) =>
    nodes.map((n) => [n.getAttribute('data-version'), n.querySelector('.version-count')?.textContent, n.getAttribute('data-desired')]),
  );
  assert.equal(rows, [['0.2.0', '2', 'true'], ['0.1.0', '2', 'false']]);
  assert.is(await text(page, `${production} [data-note="agent-waiting"]`), '1 waiting');
  assert.is(await text(page, `${agentVersions('staging')} .rollout-text`), 'No agent version asked by the group.');
  assert.is(await page.locator(`${agentVersions('staging')} .version-row[data-version="0.1.0"] .version-count`).textContent(), '1');
  await screenshot(page, 'dashboard-agent-versions.png');
});

test('a failed agent version is flagged in its group with the nodes it failed on', async ({ page }) => {
  const flag = page.locator(`${agentVersions('production')} .failed-agent-version`);
  assert.is(await flag.count(), 1);
  assert.equal([await flag.getAttribute('data-version'), await flag.getAttribute('data-count')], ['0.2.0', '1']);
  assert.is((await flag.textContent())?.trim(), 'agent 0.2.0 failed on 1 node');
  assert.is(await page.locator(`${agentVersions('staging')} .failed-agent-version`).count(), 0);
});

test('the failed flag lists the nodes it failed on; the agent filter lists the nodes running an agent version', async ({ ctl, page }) => {
  await page.click(`${agentVersions('production')} a.failed-agent-version`);
  const failed = await until(() => rowIds(page), (ids) => ids.length === 1, 'the node where 0.2.0 failed');
  assert.equal(failed, ['a-3']);
  assert.match(page.url(), /#\/\?group=production&agentFailed=0\.2\.0$/);
  assert.is(await text(page, 'table.agents tr[data-agent-id="a-3"] [data-note="agent-failed"]'), 'agent 0.2.0 failed');
  await page.goto(`${ctl.url}/#/`);
  await until(() => rowIds(page), (ids) => ids.length === 5, 'every agent');
  assert.is(await page.locator('table.agents [data-note="agent-failed"]').count(), 1, 'only the node where it failed is tagged');
  await page.selectOption('#filter-agentVersion', '0.1.0');
  assert.equal(await until(() => rowIds(page), (ids) => ids.length === 3, 'the agents running 0.1.0'), ['a-2', 'a-3', 'a-5']);
  await page.click('a.clear-filters');
  await until(() => rowIds(page), (ids) => ids.length === 5, 'every agent again');
});

test('an agent\'s page shows its agent block, the version that failed there and its self-update event', async ({ ctl, page }) => {
  await page.goto(`${ctl.url}/#/agents/a-3`);
  const block = page.locator('.agent-update-panel dl.agent-update');
  await block.waitFor();
  assert.is(await block.getAttribute('data-decision'), 'none');
  assert.equal(await block.locator('dd').allTextContents(), ['0.1.0', '0.2.0', `none ${FAILED_REASON}`]);
  const failed = await page.locator('.agent-update-panel tr.failed-agent-version[data-version="0.2.0"] td').allTextContents();
  assert.equal(failed.slice(0, 3), ['0.2.0', 'download', SHA_FAILURE.reason]);
  const event = page.locator('.history li.event[data-type="agent-update"]');
  assert.is(await event.count(), 1);
  assert.is(await event.getAttribute('data-outcome'), 'failed');
  assert.match((await event.textContent()) ?? '', 'agent-update failed duck agent 0.1.0 → 0.2.0');
  await screenshot(page, 'dashboard-agent-update-failed.png');
});

test('a waiting agent says what it waits for; an agent too old to report the block says so', async ({ ctl, page }) => {
  await page.goto(`${ctl.url}/#/agents/a-2`);
  await page.locator('.agent-update-panel dl.agent-update[data-decision="wait"]').waitFor();
  assert.is(await text(page, '.agent-update-panel .agent-update-reason'), WAIT_REASON);
  assert.is(await page.locator('.agent-update-panel tr.failed-agent-version').count(), 0);
  await page.goto(`${ctl.url}/#/agents/a-5`);
  await page.locator('.hostname:text("host-a-5")').waitFor();
  assert.is(await text(page, '.agent-update-panel .agent-update-none'), 'Agent 0.1.0 does not report its self-update (an agent from before self-updates).');
});

test('the pages raised no script error and no CSP violation', ({ pageProblems }) => {
  // The signed-out probe before signing in answers 401, which the browser logs as a failed load.
  assert.equal(pageProblems.filter((p) => !/status of 401/.test(p)), []);
});

it.run();
