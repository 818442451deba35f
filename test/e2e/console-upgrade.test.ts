// e2e lane: own compose project
// Issue 16 §2–3, Upgrade now on the real engine: the console's page shows current and target
// versions and the release notes, Confirm runs the upgrade through the node's one writer and the
// page shows its journalled steps as they come, ending on `applied` with the new version serving.
// Then `duck upgrade` handed to a running `duck run` prints the daemon's steps, the same records
// GET /api/acts/:id/events gave the page. Screenshots of the confirmation and the finished progress.
import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import type { Daemon } from '../../examples/harness/daemon.js';
import { startDaemon } from '../../examples/harness/daemon.js';
import { browserSuite, type BrowserContextOf } from '../helpers/browser.js';
import type { Served } from '../helpers/console.js';
import { call, CONSOLE_VIEWPORTS, consoleScreenshot, openConsolePage, serveConsole, stopConsole } from '../helpers/console.js';
import { requireDocker, uniqueProjectName } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { promoteHello, startHelloScenario } from '../helpers/hello-channel.js';

await requireDocker();

interface Ctx extends BrowserContextOf {
  s: HelloScenario;
  served: Served | null;
  daemon: Daemon | null;
  /** The step records GET /api/acts/:id/events gave for the page's upgrade. */
  pageRecords: Array<{ event: string; fields: Record<string, unknown> }>;
}

const NOTES = 'Faster pages.\nThe footer names the version.';

/** A hang guard for the whole upgrade on a shared engine, not a measurement. */
const UPGRADE_GUARD_MS = 180_000;

async function duck(ctx: Ctx, ...args: string[]) {
  const r = await ctx.s.node.duck(...args);
  assert.is(r.code, 0, `duck ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r;
}

const promote = (ctx: Ctx, version: string) => promoteHello(ctx.s.ch, version, ctx.s.key, 'production', {}, ctx.s.app);

const { it, test } = await browserSuite<Ctx>(
  'console: Upgrade now on the real engine, with the steps live',
  async (ctx) => {
    ctx.served = null;
    ctx.daemon = null;
    ctx.pageRecords = [];
    ctx.s = await startHelloScenario({
      prefix: 'duck-e2e-console-upgrade-',
      app: uniqueProjectName('hello'),
      releases: { '1.0.0': {}, '1.1.0': { extra: { notes: NOTES } }, '1.2.0': {} },
    });
    await promote(ctx, '1.0.0');
    await duck(ctx, 'run', '--once');
    // The channel asks for 1.1.0 and the node has accepted it: the dashboard offers the upgrade.
    await promote(ctx, '1.1.0');
    await duck(ctx, 'verify');
  },
  async (ctx) => {
    if (ctx.served) await stopConsole(ctx.served).catch(() => undefined);
    await ctx.daemon?.stop(5_000);
    await ctx.s?.close();
  },
);

/** The events of a server-sent-events body, in order. */
function sseEvents(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const field = (name: string): string => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
      return { event: field('event'), data: JSON.parse(field('data')) as Record<string, unknown> };
    });
}

/**
 * Records, in the page itself, what the progress panel shows after each change to the DOM: the
 * step lines so far and whether the outcome is there — so "steps before done" is read from the
 * order the page showed them, not from timing.
 */
async function watchProgress(page: Page): Promise<void> {
  // A string, run in the page: the test's TypeScript has no DOM types.
  await page.evaluate(`(() => {
    const seen = (window.progressSeen = []);
    new MutationObserver(() => {
      const lines = [...document.querySelectorAll('.step-log li')].map((li) => li.textContent);
      seen.push({ lines, done: document.querySelector('.upgrade-outcome[data-outcome]') !== null });
    }).observe(document.querySelector('main'), { childList: true, subtree: true, attributes: true });
  })()`);
}

test('Upgrade now on the dashboard: versions and notes, Confirm, the steps live, applied; 1.1.0 serves', async (ctx) => {
  ctx.served = await serveConsole(ctx.s.node, '--port', '0');
  const page = await openConsolePage(ctx.browser, ctx.served, ctx.pageProblems, CONSOLE_VIEWPORTS.desktop);
  const row = page.locator('.apps-table tbody tr', { has: page.locator('.app-name', { hasText: ctx.s.app }) });
  // The dashboard of a node running a real stack with an upgrade waiting: README's picture of the console.
  await consoleScreenshot(page, 'console-dashboard-node-desktop.png');
  await row.getByRole('link', { name: `Upgrade ${ctx.s.app} now` }).click();

  await page.locator('.confirm-upgrade').waitFor();
  assert.is(await page.evaluate('location.hash'), `#/upgrade/${ctx.s.app}`);
  assert.is((await page.locator('.upgrade-versions .current').textContent())?.trim(), '1.0.0');
  assert.is((await page.locator('.upgrade-versions .target').textContent())?.trim(), '1.1.0');
  assert.is((await page.locator('.release-notes').textContent())?.trim(), NOTES);
  await consoleScreenshot(page, 'console-upgrade-desktop.png');
  await page.setViewportSize(CONSOLE_VIEWPORTS.narrow);
  await consoleScreenshot(page, 'console-upgrade-narrow.png');
  await page.setViewportSize(CONSOLE_VIEWPORTS.desktop);

  await watchProgress(page);
  const started = page.waitForResponse((r) => r.url().endsWith('/api/acts?follow=1'));
  // From the keyboard: the confirmation is a real button.
  await page.locator('.confirm-upgrade').focus();
  await page.keyboard.press('Enter');
  const { id } = (await (await started).json()) as { id: string };
  const outcome = page.locator('.upgrade-outcome[data-outcome]');
  await outcome.waitFor({ timeout: UPGRADE_GUARD_MS });
  assert.is(await outcome.getAttribute('data-outcome'), 'applied', (await outcome.textContent()) ?? '');
  assert.is(await ctx.s.served(), '1.1.0');

  const seen = (await page.evaluate('window.progressSeen')) as Array<{ lines: string[]; done: boolean }>;
  const beforeDone = seen.filter((s) => !s.done).at(-1)?.lines ?? [];
  const stepLines = new Set(beforeDone.filter((l) => /: done \(/.test(l)));
  assert.ok(stepLines.size >= 2, `two step lines or more before the outcome: ${JSON.stringify(seen)}`);
  const bar = page.locator('.upgrade-bar');
  assert.is(await bar.getAttribute('value'), await bar.getAttribute('max'), 'the bar is full');
  await consoleScreenshot(page, 'console-upgrade-progress-desktop.png');
  await page.setViewportSize(CONSOLE_VIEWPORTS.narrow);
  await consoleScreenshot(page, 'console-upgrade-progress-narrow.png');

  // A page that connects late gets the records so far first: here, all of them and the result.
  const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  const stream = await call(ctx.served.origin, `/api/acts/${id}/events`, { headers: { cookie } });
  assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
  const events = sseEvents(stream.text);
  assert.is(events.at(-1)!.event, 'done');
  ctx.pageRecords = events.filter((e) => e.event === 'step').map((e) => e.data as { event: string; fields: Record<string, unknown> });
  assert.is(await page.locator('.step-log li').count(), ctx.pageRecords.length, 'the page shows every record');
  // Back on the dashboard: the upgrade is the recent activity, and no update is offered any more.
  await page.setViewportSize(CONSOLE_VIEWPORTS.desktop);
  await page.goto(`${ctx.served.origin}/#/dashboard`);
  const latest = page.locator('.recent-activity tbody tr').first();
  await latest.waitFor();
  assert.ok((await latest.textContent())?.includes('1.0.0 → 1.1.0'), (await latest.textContent()) ?? '');
  assert.is(await latest.locator('.outcome').getAttribute('data-outcome'), 'applied');
  assert.is(await page.locator('.upgrade-now').count(), 0);
  assert.equal(ctx.pageProblems, []);
  await stopConsole(ctx.served);
  ctx.served = null;
});

/** [event, step] of each step record, as the daemon logged it or the CLI printed it. */
type Shape = Array<[string, string | null]>;
const PRINTED = /^\S+ (change|step|step-failed|rollback|outcome) app=(\S+)(?: .*?\bstep=(\w+))?/gm;

test('duck upgrade handed to a running duck run prints the daemon steps as it logs them, through a rollback', async (ctx) => {
  // Manual approval: the daemon leaves 1.2.0 to the operator's command.
  await ctx.s.writeOverlay('approval: manual\n');
  ctx.daemon = startDaemon(ctx.s.node);
  await ctx.daemon.waitFor((e) => e.event === 'start', 'duck run started');
  // hello 1.2.0 never turns healthy: the change rolls back, and the operator sees why.
  await promote(ctx, '1.2.0');
  const before = await ctx.s.served();
  const mark = ctx.daemon.events.length;
  const r = await ctx.s.node.duck('upgrade', '--yes');
  assert.is(r.code, 1, `not applied: a non-zero exit\n${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /handed the request to it/);
  assert.ok(r.stdout.includes(`${ctx.s.app}: rolled-back (${before} -> 1.2.0)`), r.stdout);
  assert.is(await ctx.s.served(), before);
  await ctx.daemon.waitFor((e) => e.event === 'request-done' && e.kind === 'upgrade', 'the upgrade answered', { from: mark });

  const printed: Shape = [...r.stderr.matchAll(PRINTED)].filter((m) => m[2] === ctx.s.app).map((m) => [m[1]!, m[3] ?? null]);
  const logged: Shape = ctx.daemon.events
    .slice(mark)
    .filter((e) => ['change', 'step', 'step-failed', 'rollback', 'outcome'].includes(e.event) && e.app === ctx.s.app)
    .map((e) => [e.event, e.event.startsWith('step') ? String(e.step) : null]);
  assert.equal(printed, logged, `duck upgrade printed:\n${r.stderr}`);
  assert.ok(printed.filter(([e]) => e === 'step').length >= 2, r.stderr);
  assert.equal(printed.map(([e]) => e).slice(-2), ['rollback', 'outcome']);
  // The same kind of records as the page was given: the same plan's steps, named alike.
  const planOf = (text: string): string | undefined => /^\S+ change app=\S+ .*?steps=(\[[^\]]*\])/m.exec(text)?.[1];
  assert.equal(JSON.parse(planOf(r.stderr) ?? 'null'), ctx.pageRecords.find((rec) => rec.event === 'change')?.fields.steps);
});

it.run();
