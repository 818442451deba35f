// What an operator must see on the dashboard (issue 12 §10, §13), in a real headless Chromium
// against a real controller seeded over real HTTP (test/helpers/fleet-seed.ts operatorFleet):
// channels that cannot be fetched, the group's version beside a pinned node's, holds, operator
// stops, window waits, back-offs, the failed column, repeated failures folded, and an alert that
// counts the release's failures apart from the node's.
import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import type { FleetSummary } from '../../controller/src/fleet-summary.js';
import { artifactPath, browserSuite, signIn, type BrowserContextOf } from '../helpers/browser.js';
import { adminJson, startTestController, type TestController } from '../helpers/controller.js';
import { operatorFleet, seedInOrder } from '../helpers/fleet-seed.js';

interface Ctx extends BrowserContextOf {
  ctl: TestController;
  page: Page;
}

const text = async (page: Page, selector: string): Promise<string> => ((await page.locator(selector).first().textContent()) ?? '').trim();
const chip = (agentId: string, app: string): string => `table.agents tr[data-agent-id="${agentId}"] .app-chip[data-app="${app}"]`;
const appBlock = (group: string, app: string): string => `article.group[data-group="${group}"] .app-versions[data-app="${app}"]`;

const { it, test } = await browserSuite<Ctx>(
  'dashboard: what the operator must see',
  async (ctx) => {
    // One release failure among the nodes that tried shop 2.0.0 is enough to alert here.
    ctx.ctl = await startTestController({ alertThreshold: 0.5, alertMinAttempts: 1 });
    await seedInOrder(ctx.ctl.url, ctx.ctl.enrollToken, operatorFleet());
    ctx.page = await signIn(ctx.browser, ctx.ctl, ctx.pageProblems);
  },
  async (ctx) => ctx.ctl?.stop(),
);

test('nodes that cannot reach the channel are counted, in a state of their own, never fresh and OK', async ({ ctl, page }) => {
  const fleet = await adminJson<FleetSummary>(ctl, '/api/v1/fleet');
  assert.is(fleet.unreachableChannels, 2);
  assert.is(fleet.agents.byState.unreachable, 2);
  assert.is(await text(page, '.tile[data-metric="unreachable-channels"] .tile-count'), '2');
  assert.is(await text(page, '.tile[data-metric="unreachable-channels"] .tile-label'), 'nodes cannot reach the channel');
  assert.is(await text(page, '.tile[data-state="unreachable"] .tile-count'), '2');
  for (const id of ['edge-unreachable-1', 'edge-unreachable-2']) {
    const row = `table.agents tr[data-agent-id="${id}"]`;
    assert.is(await page.locator(row).getAttribute('data-state'), 'unreachable', id);
    assert.is(await text(page, `${row} .badge`), 'Channel unreachable');
  }
  const tag = page.locator('table.agents tr[data-agent-id="edge-unreachable-1"] [data-note="unreachable"]');
  assert.is(((await tag.textContent()) ?? '').trim(), 'unreachable since 3 h ago');
  const title = (await tag.getAttribute('title')) ?? '';
  assert.match(title, 'fetch: GET https://git.example/releases.git/info/refs: connect ECONNREFUSED 10.0.0.5:443');
  // Times read relative to the clock when the page drew them: a slow run may be a minute on.
  assert.match(title, /37 failures in a row; next try in [34] min/);
  assert.match(
    await text(page, 'table.agents tr[data-agent-id="edge-unreachable-1"] .fetch-reason'),
    /^fetch: GET https:\/\/git\.example\/releases\.git\/info\/refs: connect ECONNREFUSED 10\.0\.0\.5:443 · next try in [34] min$/,
  );
  assert.match(await (await fetch(`${ctl.url}/metrics`)).text(), /^duck_unreachable_channels 2$/m);
});

test('the rollout targets the version the group asks, with pinned nodes apart, and a lone pinned node is no 100% rollout', async ({ page }) => {
  assert.is(await page.locator(`${appBlock('edge', 'hello')} .rollout`).getAttribute('data-rollout'), '5/8');
  assert.is(await text(page, `${appBlock('edge', 'hello')} .rollout-text`), 'Rollout of 1.1.0: 5 of 8 up to date (63%); 1 pinned agent apart');
  assert.is(await text(page, `${appBlock('lab', 'hello')} .rollout-text`), 'Rollout of 1.1.0: 0 of 0 up to date (0%); 1 pinned agent apart');
  assert.is(await page.locator(`${appBlock('lab', 'hello')} .version-row[data-version="1.1.0"]`).count(), 0, 'nobody runs 1.1.0 in lab');
  assert.is(await page.locator(`${appBlock('lab', 'hello')} .version-row[data-version="1.0.0"] .tag-desired`).count(), 0, 'the pin is not the desired version');
  assert.is(await text(page, `${appBlock('lab', 'hello')} .version-row[data-version="1.0.0"] .version-share`), '100%', 'a version\'s share counts pinned agents');
  assert.is(await text(page, `${appBlock('edge', 'hello')} .version-row[data-version="1.0.0"] .version-share`), '44%', '4 of 9 agents');
  const pinned = await text(page, chip('edge-pinned', 'hello'));
  assert.match(pinned, 'hello 1.0.0');
  assert.match(pinned, 'group asks 1.1.0');
  assert.match(pinned, 'pinned');
});

test('the fleet view shows pins, holds, operator stops, window waits with their end, and back-offs with the next try', async ({ page }) => {
  const notes = await page.locator(`${appBlock('edge', 'hello')} .rollout-notes .tag`).allTextContents();
  assert.equal(notes, ['1 pinned', '1 stopped', '1 waiting for a window', '1 backing off']);
  assert.is(await text(page, 'article.group[data-group="edge"] h3 [data-note="held"]'), '1 held');
  assert.is(await text(page, 'table.agents tr[data-agent-id="edge-held"] [data-note="held"]'), 'held');
  assert.is(await text(page, `${chip('edge-held', 'hello')} [data-note="wait-hold"]`), 'held');
  assert.is(await text(page, `${chip('edge-stopped', 'hello')} [data-note="stopped"]`), 'stopped');
  assert.match(await text(page, `${chip('edge-window', 'hello')} [data-note="wait-window"]`), /^waiting for a window until \S/);
  assert.match(await text(page, `${chip('edge-backoff', 'hello')} [data-note="backoff"]`), /^failed 3× \(no-space\), next try in (19|20) min$/);
});

test('outcomes have a failed column, and the same failure three times is one row with its count and times', async ({ page }) => {
  const cells = await page.locator('table.outcomes tr[data-group="edge"][data-app="hello"][data-version="1.1.0"] td').allTextContents();
  // applied, rolled back, rollback failed, failed, deferred; nodes: release failed, infrastructure.
  assert.equal(cells, ['edge', 'hello', '1.1.0', '0', '0', '0', '3', '0', '0', '1']);
  const folded = page.locator('.failures .failure[data-app="hello"][data-version="1.1.0"]');
  assert.is(await folded.count(), 1);
  assert.is(await folded.getAttribute('data-count'), '3');
  const repeats = ((await folded.locator('.repeats').textContent()) ?? '').trim();
  assert.match(repeats, /^3× on 1 node, first .+, last .+$/);
  assert.match((await folded.textContent()) ?? '', 'infrastructure');
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: await artifactPath('dashboard-operator.png'), fullPage: true });
});

test('the alert counts nodes where the release failed and names the node failures apart', async ({ page }) => {
  const alert = await text(page, '.alerts .alert[data-app="shop"]');
  assert.match(alert, 'shop 2.0.0 in edge: the release failed on 100% of the nodes that tried it (1 of 1).');
  assert.match(alert, '1 more node failed by no fault of the release (engine, space, a kill), not counted.');
});

test('an unreachable node\'s page says since when, why, how often and when it tries next; injected text stays text', async ({ page }) => {
  await page.click('table.agents tr[data-agent-id="edge-unreachable-2"] a.hostname');
  await page.locator('.agent-page[data-agent-id="edge-unreachable-2"]').waitFor();
  assert.is(await text(page, '.agent-page h1 .badge'), 'Channel unreachable');
  const block = await text(page, '.channel-panel .fetch-failure');
  assert.match(block, /^Cannot reach the channel since .+ \((20|21) min ago\): fetch/);
  assert.match(block, /4 failed fetches in a row, the last [12] min ago; next try .+ \(in [34] min\)/);
  assert.is(await text(page, '.channel-panel .fetch-message'), 'deadline of 60 s passed <img src=x id=injected-fetch>');
  assert.is(await page.locator('#injected-fetch').count(), 0);
  assert.match(await text(page, '.channel-panel .facts'), 'unknown: the channel cannot be fetched');
  await page.click('a.back');
  await page.click('table.agents tr[data-agent-id="edge-pinned"] a.hostname');
  await page.locator('.agent-page[data-agent-id="edge-pinned"]').waitFor();
  assert.equal(await page.locator('table.agent-apps tr[data-app="hello"] td').allTextContents(), [
    'hello',
    '1.0.0',
    '1.0.0',
    '1.1.0',
    'nonepinned',
    'pinned to 1.0.0 in the overlay',
  ]);
});

test('the fleet view with all these tags stays within a phone-wide window', async ({ page }) => {
  await page.click('a.back');
  await page.locator('table.agents').waitFor();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('the page raised no script error and no CSP violation', ({ pageProblems }) => {
  // The signed-out probe before signing in answers 401, which the browser logs as a failed load.
  assert.equal(pageProblems.filter((p) => !/status of 401/.test(p)), []);
});

it.run();
