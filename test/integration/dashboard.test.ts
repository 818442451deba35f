// The dashboard in a real headless Chromium against a real controller on 127.0.0.1, seeded over
// real HTTP by 12 enrolled agents (test/helpers/fleet-seed.ts). Screenshots go to test-artifacts/.
// The tests run in order in one page: sign in, overview, filters, agent page, refresh, sign out.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import type { FleetSummary } from '../../controller/src/fleet-summary.js';
import { artifactPath, browserSuite, openPage, until, type BrowserContextOf } from '../helpers/browser.js';
import { adminJson, startTestController, type TestController } from '../helpers/controller.js';
import { FLEET, reportOf, seedFleet, sendReport, uploadDiagnostics, type EnrolledAgent, type UploadedBundle } from '../helpers/fleet-seed.js';

interface AgentDetail {
  events: Array<{ id: string; type: string; outcome?: string }>;
  diagnostics: Array<{ id: string; filename: string }>;
}

interface Ctx extends BrowserContextOf {
  ctl: TestController;
  context: BrowserContext;
  page: Page;
  agents: EnrolledAgent[];
  bundle: UploadedBundle;
}

/** What the seeded fleet is, by the rules of DESIGN §5 (worst state wins). */
const EXPECTED_STATES = { failed: 1, refused: 1, unreachable: 0, stale: 1, offline: 0, updating: 1, waiting: 3, ok: 5 };

const text = async (page: Page, selector: string): Promise<string> => ((await page.locator(selector).first().textContent()) ?? '').trim();
const versionRow = (group: string, app: string, version: string): string =>
  `article.group[data-group="${group}"] .app-versions[data-app="${app}"] .version-row[data-version="${version}"]`;
// Read in one pass in the page: rows listed first and read one by one may be replaced in between.
const attrs = (page: Page, selector: string, name: string): Promise<Array<string | null>> =>
  page.locator(selector).evaluateAll((nodes, attr) => nodes.map((node) => node.getAttribute(attr)), name);
const rowCount = (page: Page): Promise<number> => page.locator('table.agents tbody tr').count();
/** A full-page screenshot from the top, so the sticky header sits where it belongs. */
async function screenshot(page: Page, name: string): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: await artifactPath(name), fullPage: true });
}
const agentOf = (ctx: Ctx, agentId: string): EnrolledAgent => ctx.agents.find((a) => a.agentId === agentId) as EnrolledAgent;

const { it, test } = await browserSuite<Ctx>(
  'dashboard in headless Chromium',
  async (ctx) => {
    ctx.ctl = await startTestController();
    ctx.agents = await seedFleet(ctx.ctl.url, ctx.ctl.enrollToken);
    ctx.bundle = await uploadDiagnostics(ctx.ctl.url, agentOf(ctx, 'canary-3'), 'duck-diagnostics-cn-edge-03.tar.gz');
    Object.assign(ctx, await openPage(ctx.browser, ctx.pageProblems, { acceptDownloads: true }));
  },
  async (ctx) => ctx.ctl?.stop(),
);

test('a wrong admin token is refused with a message and shows no fleet data', async ({ ctl, page }) => {
  await page.goto(ctl.url);
  await page.locator('#login').waitFor({ state: 'visible' });
  await page.fill('#token', 'not-the-admin-token');
  await page.click('#login-form button[type="submit"]');
  assert.is(await until(() => text(page, '#login-error'), (t) => t !== '', 'the sign-in error'), 'That is not the admin token.');
  assert.is(await page.locator('#view *').count(), 0);
  assert.is(await page.locator('#logout').isVisible(), false);
});

test('the admin token opens the fleet overview and says when it was updated', async ({ ctl, page }) => {
  await page.fill('#token', ctl.adminToken);
  await page.click('#login-form button[type="submit"]');
  await page.locator('.tiles .tile[data-state="ok"]').waitFor();
  assert.is(await page.locator('#login').isVisible(), false);
  assert.match(await text(page, '#updated'), /^Updated \d/);
  assert.is(await page.locator('#logout').isVisible(), true);
});

test('the overview counts agents per state, total and stale channels, as the controller does', async ({ ctl, page }) => {
  const fleet = await adminJson<FleetSummary>(ctl, '/api/v1/fleet');
  assert.equal(fleet.agents.byState, EXPECTED_STATES);
  for (const [state, count] of Object.entries(EXPECTED_STATES)) {
    assert.is(await text(page, `.tile[data-state="${state}"] .tile-count`), String(count), state);
  }
  assert.is(await text(page, '.tile[data-metric="total"] .tile-count'), '12');
  assert.is(await text(page, '.tile[data-metric="stale-channels"] .tile-count'), '1');
});

test('versions per group and app show each version with its agents, the desired one marked', async ({ page }) => {
  const expected: Array<[string, string, string, number, boolean]> = [
    ['canary', 'hello', '1.1.0', 3, true],
    ['canary', 'shop', '2.0.0', 2, true],
    ['canary', 'shop', '1.9.0', 1, false],
    ['production', 'hello', '1.1.0', 3, true],
    ['production', 'hello', '1.0.0', 6, false],
    ['production', 'shop', '1.9.0', 9, true],
  ];
  for (const [group, app, version, agents, desired] of expected) {
    const row = versionRow(group, app, version);
    assert.is(await text(page, `${row} .version-count`), String(agents), `${group}/${app} ${version}`);
    assert.is(await page.locator(`${row} .tag-desired`).count(), desired ? 1 : 0, `${group}/${app} ${version} desired`);
  }
  assert.is(await page.locator('article.group[data-group="production"] .app-versions[data-app="hello"] .version-row').count(), 2);
  // The bar is the version's share of the group's agents: 6 of 9 is two thirds of the track.
  const row = versionRow('production', 'hello', '1.0.0');
  const fill = await page.locator(`${row} .bar-fill`).boundingBox();
  const track = await page.locator(`${row} .bar`).boundingBox();
  const share = fill!.width / track!.width;
  assert.ok(Math.abs(share - 6 / 9) < 0.02, `bar share ${share}`);
});

test('rollout progress shows up-to-date of total per group and app', async ({ page }) => {
  const rollout = async (group: string, app: string) => page.locator(`article.group[data-group="${group}"] .app-versions[data-app="${app}"] .rollout`).getAttribute('data-rollout');
  assert.is(await rollout('canary', 'hello'), '3/3');
  assert.is(await rollout('canary', 'shop'), '2/3');
  assert.is(await rollout('production', 'hello'), '3/9');
  assert.is(await rollout('production', 'shop'), '9/9');
  assert.match(await text(page, 'article.group[data-group="production"] .app-versions[data-app="hello"] .rollout-text'), 'Rollout of 1.1.0: 3 of 9 up to date (33%)');
});

test('recent failures and outcomes per version show the rolled-back upgrade', async ({ page }) => {
  const failure = await text(page, '.failures .failure');
  assert.match(failure, 'rolled back');
  assert.match(failure, 'cn-edge-03');
  assert.match(failure, 'shop 1.9.0 → 2.0.0');
  assert.match(failure, 'health: http://127.0.0.1:8080/health answered 500, expected 200');
  const cells = await page.locator('table.outcomes tr[data-group="canary"][data-app="shop"][data-version="2.0.0"] td').allTextContents();
  // applied, rolled back, rollback failed, failed, deferred; then nodes: release failed, infrastructure.
  assert.equal(cells, ['canary', 'shop', '2.0.0', '2', '1', '0', '0', '0', '1', '0']);
  const deferred = await page.locator('table.outcomes tr[data-group="production"][data-app="hello"][data-version="1.1.0"] td').allTextContents();
  assert.equal(deferred, ['production', 'hello', '1.1.0', '3', '0', '0', '0', '1', '0', '0']);
});

test('text an agent sent is shown as text, never run as markup', async ({ page }) => {
  const hostname = FLEET.find((a) => a.agentId === 'production-4')!.hostname;
  assert.is(await text(page, 'table.agents tr[data-agent-id="production-4"] a.hostname'), hostname);
  assert.is(await page.locator('#injected').count(), 0);
  assert.is(await page.locator('table.agents img').count(), 0);
});

test('the agents table lists every agent and filters by state and group', async ({ page }) => {
  assert.is(await page.locator('table.agents tbody tr').count(), 12);
  await page.selectOption('#filter-state', 'waiting');
  await until(() => rowCount(page), (n) => n === 3, '3 waiting agents');
  assert.match(page.url(), /#\/\?state=waiting$/);
  assert.equal(await attrs(page, 'table.agents tbody tr', 'data-state'), ['waiting', 'waiting', 'waiting']);
  await page.selectOption('#filter-state', '');
  await page.selectOption('#filter-group', 'canary');
  // The rows, not their count: the 3 waiting agents of the filter before are 3 rows as well.
  const canary = await until(
    () => attrs(page, 'table.agents tbody tr', 'data-agent-id'),
    (ids) => ids.every((id) => id?.startsWith('canary-')) && ids.length === 3,
    'the 3 canary agents',
  );
  assert.equal(canary, ['canary-1', 'canary-2', 'canary-3']);
  await page.click('a.clear-filters');
  await until(() => rowCount(page), (n) => n === 12, 'all 12 agents again');
  await screenshot(page, 'dashboard-overview.png');
});

test('an agent page shows its facts, channel, apps and history newest first', async ({ ctl, page }) => {
  await page.click('table.agents tr[data-agent-id="canary-3"] a.hostname');
  await page.locator('.agent-page[data-agent-id="canary-3"]').waitFor();
  assert.is(await text(page, '.agent-page h1 .hostname'), 'cn-edge-03');
  assert.is(await text(page, '.agent-page h1 .badge'), 'Failed');
  const facts = await text(page, '.facts-panel');
  for (const fact of ['canary-3', 'Debian GNU/Linux 12', 'x64', '20.10.24', 'v1 1.29.2']) assert.match(facts, fact);
  assert.match(await text(page, '.channel-panel'), 'a3f9c2d18e');
  assert.equal(await page.locator('table.agent-apps tr[data-app="shop"] td').allTextContents(), [
    'shopfailed',
    '1.9.0',
    '2.0.0',
    '—',
    'none',
    '2.0.0 failed here; waits for a new commit or duck upgrade2.0.0 failed here',
  ]);

  const detail = await adminJson<AgentDetail>(ctl, '/api/v1/agents/canary-3');
  assert.equal(detail.events.map((e) => e.id), ['canary-3-event-3', 'canary-3-event-2', 'canary-3-event-1'], 'the API gives newest first');
  assert.equal(await attrs(page, '.history .event', 'data-event-id'), detail.events.map((e) => e.id));
  const newest = page.locator('.history .event').first();
  assert.is(await newest.getAttribute('data-outcome'), 'rolled-back');
  assert.is(await newest.locator('.outcome').textContent(), 'rolled back');
  assert.match((await newest.textContent()) ?? '', 'shop 1.9.0 → 2.0.0');
  assert.is(await page.locator('.history .event[data-type="backup"] .outcome').count(), 0);
});

test('an agent page links its diagnostics bundle, which downloads byte for byte', async ({ ctl, page, bundle }) => {
  const detail = await adminJson<AgentDetail>(ctl, '/api/v1/agents/canary-3');
  assert.is(detail.diagnostics.length, 1);
  const link = page.locator('.diagnostics a.download');
  assert.is(await link.textContent(), bundle.filename);
  assert.is(await link.getAttribute('href'), `/api/v1/diagnostics/${detail.diagnostics[0]!.id}`);
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const bytes = await readFile((await download.path()) as string);
  assert.is(createHash('sha256').update(bytes).digest('hex'), bundle.sha256);
  await screenshot(page, 'dashboard-agent.png');
});

test('the overview refreshes by itself and shows a new report', async (ctx) => {
  const { page, ctl } = ctx;
  await page.click('a.back');
  const row = `${versionRow('production', 'hello', '1.1.0')} .version-count`;
  await page.locator(row).waitFor();
  assert.is(await text(page, row), '3');
  const before = await page.locator('#updated').getAttribute('data-at');
  const upgraded = { ...agentOf(ctx, 'production-5') };
  upgraded.apps = [{ app: 'hello', current: '1.1.0', desired: '1.1.0', decision: 'none', reason: '1.1.0 runs', state: 'running' }, upgraded.apps[1]!];
  upgraded.events = [{ hoursAgo: 0, type: 'upgrade', outcome: 'applied', app: 'hello', from: '1.0.0', to: '1.1.0', reason: 'in window' }];
  await sendReport(ctl.url, upgraded, reportOf(upgraded));
  // No reload: the 5 s refresh must bring it.
  await until(() => text(page, row), (t) => t === '4', 'production hello 1.1.0 on 4 agents', 12_000);
  assert.is(await text(page, '.tile[data-state="waiting"] .tile-count'), '2');
  assert.is(await text(page, '.tile[data-state="ok"] .tile-count'), '6');
  assert.is.not(await page.locator('#updated').getAttribute('data-at'), before);
});

test('the overview stays readable in a phone-wide window, with no sideways scrolling', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
  assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
  await screenshot(page, 'dashboard-narrow.png');
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('logging out returns to the sign-in form and ends the session', async ({ ctl, page }) => {
  await page.click('#logout');
  await page.locator('#login').waitFor({ state: 'visible' });
  assert.is(await page.locator('#view *').count(), 0);
  const res = await page.request.get(`${ctl.url}/api/v1/fleet`);
  assert.is(res.status(), 401);
});

test('the page raised no script error and no CSP violation', ({ pageProblems }) => {
  // A refused token and the signed-out probe above answer 401/403: the browser logs those as
  // failed resource loads, which are expected here; anything else is a fault of the page.
  const unexpected = pageProblems.filter((p) => !/status of 40[13]/.test(p));
  assert.equal(unexpected, []);
});

it.run();
