// e2e lane: own compose project
// Issue 16 point 2, the console's backups and history pages in real Chromium against the real
// `duck console` and a real engine: a backup created from the page is listed with its size and the
// version that made it; the restore button stays disabled until the app's name is typed, then the
// restore runs through the node's writer and brings the data of the backup back; the history page
// lists both. Screenshots of each page at both widths go to test-artifacts/.
import { readFile, writeFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { browserSuite, type BrowserContextOf } from '../helpers/browser.js';
import type { Served } from '../helpers/console.js';
import { CONSOLE_VIEWPORTS, consoleScreenshot, openConsolePage, serveConsole, stopConsole } from '../helpers/console.js';
import { requireDocker, uniqueProjectName } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { startHelloScenario } from '../helpers/hello-channel.js';

await requireDocker();

interface Ctx extends BrowserContextOf {
  s: HelloScenario;
  served: Served | null;
  /** The backup the page made, once it did. */
  backupId: string | null;
}

const MARKER = 'console-marker.txt';
const BEFORE = 'written before the backup\n';
const AFTER = 'changed after the backup\n';

const { it, test } = await browserSuite<Ctx>(
  'console: backups and history pages in Chromium (real engine)',
  async (ctx) => {
    ctx.s = await startHelloScenario({ prefix: 'duck-e2e-console-backups-', app: uniqueProjectName('hello'), releases: { '1.0.0': {} }, apply: { keepBackups: 20 } });
    await ctx.s.ch.write('groups/production.yaml', stringify({ apps: { [ctx.s.app]: '1.0.0' } }));
    await ctx.s.ch.commit(`${ctx.s.app} 1.0.0 in the group`, ctx.s.key);
    await ctx.s.ch.publish();
    const ran = await ctx.s.node.duck('run', '--once');
    if (ran.code !== 0) throw new Error(`duck run --once: ${ran.stdout}${ran.stderr}`);
    await writeFile(ctx.s.dataFile(MARKER), BEFORE);
    ctx.backupId = null;
    ctx.served = await serveConsole(ctx.s.node, '--port', '0');
  },
  async (ctx) => {
    if (ctx.served) await stopConsole(ctx.served);
    await ctx.s?.close();
  },
);

it.before.each((ctx) => {
  ctx.pageProblems.length = 0;
});

async function openPage(ctx: Ctx, title: string, ready: string): Promise<Page> {
  // Each test logs in with a fresh link: a link works once.
  if (ctx.served) await stopConsole(ctx.served);
  ctx.served = await serveConsole(ctx.s.node, '--port', '0');
  const page = await openConsolePage(ctx.browser, ctx.served, ctx.pageProblems);
  await page.locator('#nav a', { hasText: title }).click();
  await page.locator(ready).first().waitFor().catch(async (err: Error) => {
    throw new Error(`${title}: ${ready} not shown (the page says: ${await page.locator('#message').textContent()} / ${await page.locator('main').textContent()}; ${ctx.pageProblems.join('; ')}): ${err.message}`);
  });
  return page;
}

const panelOf = (page: Page, app: string) => page.locator(`.backup-app[data-app="${app}"]`);

interface ListedBackup {
  id: string;
  version: string;
  bytes: number;
  reason: string;
}

async function listed(ctx: Ctx): Promise<ListedBackup[]> {
  const r = await ctx.s.node.duck('backups', ctx.s.app, '--json');
  assert.is(r.code, 0, r.stdout + r.stderr);
  return r.json!.backups as ListedBackup[];
}

test('Create backup: the page shows the new backup with its size and the version that made it', async (ctx) => {
  const page = await openPage(ctx, 'Backups', '.backup-app');
  const panel = panelOf(page, ctx.s.app);
  const before = await listed(ctx);
  await panel.locator('button', { hasText: `Create backup of ${ctx.s.app}` }).click();
  const ok = panelOf(page, ctx.s.app).locator('.act-result .act-ok');
  await ok.waitFor({ timeout: 60_000 });
  const after = await listed(ctx);
  assert.is(after.length, before.length + 1, JSON.stringify(after));
  const made = after.find((b) => !before.some((o) => o.id === b.id))!;
  ctx.backupId = made.id;
  assert.match((await ok.textContent()) ?? '', `backup ${made.id}: ${ctx.s.app} 1.0.0`);
  const row = panelOf(page, ctx.s.app).locator('.backups-table tbody tr', { hasText: made.id });
  assert.is(((await row.locator('.backup-version').textContent()) ?? '').trim(), '1.0.0');
  assert.match((await row.locator('.backup-size').textContent()) ?? '', /^\d+(\.\d)? (bytes|KiB|MiB)$/);
  await consoleScreenshot(page, 'console-backups-desktop.png');
  await page.setViewportSize(CONSOLE_VIEWPORTS.narrow);
  await consoleScreenshot(page, 'console-backups-narrow.png');
  assert.equal(ctx.pageProblems, []);
});

test('Restore: disabled until the app name is typed, then the restore runs and brings the data of the backup back', async (ctx) => {
  assert.ok(ctx.backupId, 'the previous test made a backup');
  await writeFile(ctx.s.dataFile(MARKER), AFTER);
  const page = await openPage(ctx, 'Backups', '.backups-table');
  const app = ctx.s.app;
  const row = panelOf(page, app).locator('.backups-table tbody tr', { hasText: ctx.backupId });
  // From the keyboard: Enter on the row's button opens the confirmation with the name field focused.
  await row.locator('button.restore-open').focus();
  await page.keyboard.press('Enter');
  const confirm = panelOf(page, app).locator('.restore-confirm');
  await confirm.waitFor();
  assert.ok(await page.evaluate('document.activeElement?.classList.contains("restore-name")'), 'the name field has the focus');
  const go = confirm.locator('button.restore-go');
  const name = confirm.getByLabel(`Type the app name (${app}) to confirm`);
  assert.ok(await go.isDisabled(), 'nothing typed: disabled');
  await name.pressSequentially(app.slice(0, -1));
  assert.ok(await go.isDisabled(), 'all but the last letter: disabled');
  await name.fill(ctx.backupId!);
  assert.ok(await go.isDisabled(), 'the backup id is not the confirmation: disabled');
  await name.fill(`${app} `);
  assert.ok(await go.isDisabled(), 'a trailing space: disabled');
  await name.fill(app);
  assert.not.ok(await go.isDisabled(), 'the app name typed: enabled');
  await consoleScreenshot(page, 'console-backups-restore-desktop.png');
  await go.click();
  const ok = panelOf(page, app).locator('.act-result .act-ok');
  await ok.waitFor({ timeout: 90_000 });
  assert.match((await ok.textContent()) ?? '', /applied|restored|1\.0\.0/);
  assert.is(await readFile(ctx.s.dataFile(MARKER), 'utf8'), BEFORE, 'the marker is back as it was at the backup');
  // The data as it was just before the restore was backed up first, and is listed too.
  const backups = await listed(ctx);
  assert.ok(backups.length >= 2, JSON.stringify(backups));
  assert.is(await panelOf(page, app).locator('.backups-table tbody tr').count(), backups.length);
  assert.equal(ctx.pageProblems, []);
});

test('History lists the backup and the restore, newest first, with outcome and reason', async (ctx) => {
  assert.ok(ctx.backupId, 'the first test made a backup');
  const page = await openPage(ctx, 'History', '.history-table');
  const rows = page.locator('.history-table tbody tr');
  const texts = await rows.allTextContents();
  const restoreAt = texts.findIndex((t) => t.includes(`duck restore ${ctx.backupId}`));
  const backupAt = texts.findIndex((t) => t.includes(ctx.backupId!) && /backup/.test(t) && !t.includes('duck restore'));
  assert.ok(restoreAt >= 0, `the restore is listed:\n${texts.join('\n')}`);
  assert.ok(backupAt > restoreAt, `the backup is listed below the restore (older):\n${texts.join('\n')}`);
  assert.is(((await rows.nth(restoreAt).locator('.outcome').textContent()) ?? '').trim(), 'applied');
  assert.is(((await rows.nth(backupAt).locator('.outcome').textContent()) ?? '').trim(), 'backup');
  const state = await ctx.s.readState();
  assert.is(await rows.count(), Math.min(state.history.length, 200), 'every entry of the state is listed');
  await consoleScreenshot(page, 'console-history-desktop.png');
  await page.setViewportSize(CONSOLE_VIEWPORTS.narrow);
  await consoleScreenshot(page, 'console-history-narrow.png');
  assert.equal(ctx.pageProblems, []);
});

it.run();
