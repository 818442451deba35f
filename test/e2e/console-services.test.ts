// e2e lane: own compose project
// Issue 16 point 2, the console's Services and Logs pages in real Chromium against `duck console`
// on a real engine: Stop (after its confirmation), Start and Restart change what `docker ps` says
// and the page shows it; the log page shows the lines the container writes, the filter hides the
// others, Export downloads the lines shown, and leaving the page ends the `logs --follow` child.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { stringify } from 'yaml';
import * as assert from 'uvu/assert';
import { browserSuite, until, type BrowserContextOf } from '../helpers/browser.js';
import type { Served } from '../helpers/console.js';
import { CONSOLE_VIEWPORTS, consoleScreenshot, openConsolePage, serveConsole, stopConsole } from '../helpers/console.js';
import { requireDocker, runningContainers, uniqueProjectName } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { startHelloScenario } from '../helpers/hello-channel.js';

const run = promisify(execFile);

await requireDocker();

interface Ctx extends BrowserContextOf {
  s: HelloScenario;
  served: Served | null;
}

/** How long a page may take for an act on the engine (a stop, a health-checked start). */
const ACT_MS = 60_000;

const { it, test } = await browserSuite<Ctx>(
  'console: services and live logs in Chromium (real engine)',
  async (ctx) => {
    ctx.s = await startHelloScenario({ prefix: 'duck-e2e-console-services-', app: uniqueProjectName('hello'), releases: { '1.0.0': {} } });
    await ctx.s.ch.write('groups/production.yaml', stringify({ apps: { [ctx.s.app]: '1.0.0' } }));
    await ctx.s.ch.commit(`${ctx.s.app} 1.0.0 in the group`, ctx.s.key);
    await ctx.s.ch.publish();
    const ran = await ctx.s.node.duck('run', '--once');
    if (ran.code !== 0) throw new Error(`duck run --once: ${ran.stdout}${ran.stderr}`);
  },
  async (ctx) => ctx.s?.close(),
);

it.before.each(async (ctx) => {
  ctx.pageProblems.length = 0;
  ctx.served = await serveConsole(ctx.s.node, '--port', '0');
});

it.after.each(async (ctx) => {
  if (ctx.served) await stopConsole(ctx.served);
  ctx.served = null;
});

const appPanel = (page: Page, app: string) => page.locator(`.service-app[data-app="${app}"]`);

async function appState(page: Page, app: string): Promise<string> {
  return (await appPanel(page, app).getAttribute('data-state')) ?? '';
}

/** The page's state of the app once it has read it again after an act (the buttons come back). */
async function afterAct(page: Page, app: string): Promise<string> {
  await page.locator(`.service-app[data-app="${app}"] button[data-act="start"]:not([disabled])`).waitFor({ timeout: ACT_MS });
  return appState(page, app);
}

/** `logs --follow` processes on this machine for the project (the console's children). */
async function logFollowers(project: string): Promise<string[]> {
  const { stdout } = await run('ps', ['-eo', 'pid=,args=']);
  return stdout.split('\n').filter((l) => l.includes(' logs ') && l.includes('--follow') && l.includes(project));
}

test('Stop asks first, then stops; Start and Restart: the page and docker ps agree; screenshots', async (ctx) => {
  const { app, project } = ctx.s;
  const page = await openConsolePage(ctx.browser, ctx.served!, ctx.pageProblems);
  await page.locator('#nav a', { hasText: 'Services' }).click();
  await appPanel(page, app).waitFor();
  assert.is(await appState(page, app), 'running');
  assert.match((await appPanel(page, app).locator('.containers-table').textContent()) ?? '', /healthy/);
  assert.is((await runningContainers(project)).length, 1);
  await consoleScreenshot(page, 'console-services-desktop.png');
  await page.setViewportSize(CONSOLE_VIEWPORTS.narrow);
  await consoleScreenshot(page, 'console-services-narrow.png');
  await page.setViewportSize(CONSOLE_VIEWPORTS.desktop);

  // Cancel (the focused answer) leaves it running.
  await appPanel(page, app).locator('button[data-act="stop"]').click();
  await page.locator('dialog.confirm').waitFor();
  assert.is(await page.evaluate('document.activeElement.textContent'), 'Cancel');
  await page.keyboard.press('Enter');
  await page.locator('dialog.confirm').waitFor({ state: 'detached' });
  assert.is((await runningContainers(project)).length, 1, 'a cancelled stop stops nothing');

  await appPanel(page, app).locator('button[data-act="stop"]').click();
  await page.locator('dialog.confirm .confirm-yes').click();
  assert.is(await afterAct(page, app), 'exited');
  assert.equal(await runningContainers(project), [], 'docker ps: nothing runs');
  assert.match((await appPanel(page, app).textContent()) ?? '', /stopped by the operator/);
  assert.match((await page.locator('#message').textContent()) ?? '', new RegExp(`stopped ${app} 1\\.0\\.0`));

  await appPanel(page, app).locator('button[data-act="start"]').click();
  assert.is(await afterAct(page, app), 'running');
  const started = await runningContainers(project);
  assert.is(started.length, 1, 'docker ps: it runs again');

  const startedAt = async (): Promise<string> => (await run('docker', ['inspect', '--format', '{{.State.StartedAt}}', started[0]!])).stdout.trim();
  const before = await startedAt();
  await page.locator('.service-all button[data-act="restart"]').click();
  assert.is(await afterAct(page, app), 'running');
  assert.equal(await runningContainers(project), started, 'the same container runs');
  assert.not.equal(await startedAt(), before, 'and it was started again');
  assert.match((await page.locator('#message').textContent()) ?? '', new RegExp(`restarted ${app}`));
  assert.equal(ctx.pageProblems, []);
});

test('live logs: the container’s lines arrive, the filter hides the others, Export saves what is shown, leaving ends the follow', async (ctx) => {
  const { app, project } = ctx.s;
  const [container] = await runningContainers(project);
  assert.ok(container, 'the app runs');
  // What the container writes to its standard output is its log: PID 1's stdout.
  const say = (text: string) => run('docker', ['exec', container!, '/bin/busybox', 'sh', '-c', `echo '${text}' > /proc/1/fd/1`]);
  await say('before the page: alpha 1');

  const page = await openConsolePage(ctx.browser, ctx.served!, ctx.pageProblems);
  await page.goto(`${ctx.served!.origin}/#/logs/${encodeURIComponent(app)}`);
  const lines = page.locator('.log-view .log-line');
  // docker-compose v1 takes seconds to start on a busy machine.
  await lines.filter({ hasText: 'before the page: alpha 1' }).waitFor({ timeout: 30_000 });
  await until(() => logFollowers(project), (l) => l.length === 1, 'one logs --follow child while the page is open');

  await say('live: BETA 2');
  await say('live: alpha 3 <b>not markup</b>');
  await lines.filter({ hasText: 'alpha 3' }).waitFor();
  await lines.filter({ hasText: 'BETA 2' }).waitFor();
  assert.is(await page.locator('.log-view b').count(), 0, 'a log line is text, never elements');

  await page.fill('#log-filter', 'ALPHA');
  const shown = await page.locator('.log-view .log-line:not([hidden])').allTextContents();
  assert.ok(shown.length >= 2, `alpha lines shown: ${JSON.stringify(shown)}`);
  assert.ok(shown.every((l) => /alpha/i.test(l)), `only matching lines: ${JSON.stringify(shown)}`);
  assert.not.ok(await lines.filter({ hasText: 'BETA 2' }).isVisible(), 'the filter hides the others');

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('.log-export')]);
  assert.match(download.suggestedFilename(), new RegExp(`^${app}-\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ\\.log$`));
  const file = await readFile((await download.path())!, 'utf8');
  assert.is(file, `${shown.join('\n')}\n`, 'the file holds the lines shown');

  await page.fill('#log-filter', '');
  await consoleScreenshot(page, 'console-logs-desktop.png');
  await page.setViewportSize(CONSOLE_VIEWPORTS.narrow);
  await consoleScreenshot(page, 'console-logs-narrow.png');

  await page.locator('#nav a', { hasText: 'Services' }).click();
  await appPanel(page, app).waitFor();
  await until(() => logFollowers(project), (l) => l.length === 0, 'no logs --follow child once the page is left', 20_000);

  // Only an app this node runs: anything else is a 404 before any stream opens.
  const missing = await page.context().request.get(`${ctx.served!.origin}/api/apps/not-here/logs/stream`);
  assert.is(missing.status(), 404);
  assert.match(((await missing.json()) as { message: string }).message, /no app "not-here" runs on this node/);
  const badTail = await page.context().request.get(`${ctx.served!.origin}/api/apps/${app}/logs/stream?tail=all`);
  assert.is(badTail.status(), 400);
  assert.equal(await logFollowers(project), [], 'a refused request starts no follow');
  assert.equal(ctx.pageProblems, []);
});

it.run();
