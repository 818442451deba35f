// Issue 16 point 2, what the overlay may change, from the console's pages, in real headless Chromium
// against the real `duck console`: the app page pins, holds and schedules, the settings page edits
// windows and approval and checks the channel now. Each edit is checked where the agent reads it:
// the overlay file (the operator's comments all still there) and `duck status --json`.
import { readFile, writeFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { browserSuite, type BrowserContextOf } from '../helpers/browser.js';
import type { Channel, ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { writeBasicChannel, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';
import type { Served } from '../helpers/console.js';
import { CONSOLE_VIEWPORTS, consoleScreenshot, openConsolePage, serveConsole, stopConsole } from '../helpers/console.js';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { failedVersion, readAgentState, writeAgentState } from '../helpers/agent-state.js';

interface Ctx extends BrowserContextOf {
  host: ChannelHost;
  ch: Channel;
  node: AgentNode;
  served: Served | null;
}

/** The operator's overlay: every comment here must survive every edit the pages make. */
const OVERLAY = [
  '# overlay of the shop node, see ticket OPS-42',
  '',
  '# approval: the on-call decides when',
  'approval: auto # set by ops',
  '',
  '# local port, agreed with the network team',
  'compose:',
  '  shop:',
  '    env:',
  '      PORT: "8081" # not 8080: taken by the proxy',
  '',
  '# end of the overlay',
  '',
].join('\n');

const COMMENTS = OVERLAY.split('\n').flatMap((line) => {
  const at = line.indexOf('#');
  return at < 0 ? [] : [line.slice(at)];
});

interface AppStatus {
  app: string;
  decision: string;
  waitingFor: string | null;
  reason: string;
  until: string | null;
  pinned: boolean;
}
interface Status {
  zone: string;
  hold: { reason: string; until: string | null } | null;
  approval: string;
  windows: { from: string; list: string[] };
  apps: AppStatus[];
  channel: { accepted: { commit: string } };
}

async function status(node: AgentNode): Promise<Status> {
  const r = await node.duck('status', '--json');
  if (r.code !== 0) throw new Error(`duck status: ${r.stderr}`);
  return r.json as unknown as Status;
}

const shopOf = (s: Status): AppStatus => s.apps.find((a) => a.app === 'shop')!;

async function textOf(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? '').trim();
}

async function overlayText(node: AgentNode): Promise<string> {
  return readFile(node.overlayFile, 'utf8');
}

function assertCommentsKept(text: string): void {
  for (const comment of COMMENTS) assert.ok(text.includes(comment), `the overlay still has "${comment}":\n${text}`);
}

/** Waits for the shell's status line to say `what` (an edit's summary, or its refusal). */
async function messageSays(page: Page, what: string | RegExp): Promise<string> {
  const line = page.locator('#message', { hasText: what });
  await line.waitFor();
  return (await line.textContent()) ?? '';
}

async function openApp(ctx: Ctx, app: string): Promise<Page> {
  const page = await openConsolePage(ctx.browser, ctx.served!, ctx.pageProblems);
  await page.click(`.apps-table a.app-name:text-is("${app}")`);
  await page.locator('main h1', { hasText: app }).waitFor();
  await page.locator('.panel.decision-panel').waitFor();
  return page;
}

async function openSettings(ctx: Ctx): Promise<Page> {
  const page = await openConsolePage(ctx.browser, ctx.served!, ctx.pageProblems);
  await page.click('#nav a:text-is("Settings")');
  await page.locator('.panel.check').waitFor();
  return page;
}

const { it, test } = await browserSuite<Ctx>(
  'console: the overlay from the app and settings pages in Chromium',
  async (ctx) => {
    ctx.host = await startChannelHost('duck-console-settings-');
    const { ch, node } = await ctx.host.fresh();
    await writeBasicChannel(ch, [ctx.host.rootKey]);
    await writeRelease(ch, 'shop', '1.0.0');
    await writeRelease(ch, 'shop', '1.1.0');
    await writeGroup(ch, 'production', { shop: '1.1.0' }, { windows: [{ days: ['sat'], start: '02:00', duration: '2h', timezone: 'UTC' }] });
    await ch.commit('shop 1.1.0', ctx.host.rootKey);
    await ch.publish();
    ctx.ch = ch;
    ctx.node = node;
    const verified = await node.duck('verify');
    if (verified.code !== 0) throw new Error(`duck verify: ${verified.stderr}`);
  },
  async (ctx) => ctx.host?.close(),
);

it.before.each(async (ctx) => {
  ctx.pageProblems.length = 0;
  await writeFile(ctx.node.overlayFile, OVERLAY);
  ctx.served = await serveConsole(ctx.node, '--port', '0');
});

it.after.each(async (ctx) => {
  if (ctx.served) await stopConsole(ctx.served);
  ctx.served = null;
});

test('the app page says the decision in plain words: waiting for the window Sat 02:00 UTC', async (ctx) => {
  const page = await openApp(ctx, 'shop');
  const shop = shopOf(await status(ctx.node));
  assert.is(shop.waitingFor, 'window');
  assert.match(await textOf(page, '.headline'), /^Waiting for the maintenance window: Sat \d+ \w+ \d{4}, 02:\d\d UTC$/);
  assert.is(await textOf(page, '.reason'), shop.reason);
  assert.not.match(await textOf(page, 'main'), /null|undefined/, 'a panel left out leaves no text behind');
  assert.equal(ctx.pageProblems, []);
});

test('a failed version says so in plain words, and Retry lifts its quarantine through the one writer', async (ctx) => {
  await stopConsole(ctx.served!);
  const before = await readAgentState(ctx.node.stateDir);
  const commit = before.channel.anchor!.commit;
  try {
    await writeAgentState(ctx.node.stateDir, { ...before, failed: { shop: failedVersion('1.1.0', { commit }) } });
    ctx.served = await serveConsole(ctx.node, '--port', '0');
    const page = await openApp(ctx, 'shop');
    assert.is(shopOf(await status(ctx.node)).waitingFor, 'failed');
    assert.match(await textOf(page, '.headline'), /^1\.1\.0 failed here; not retried until its release changes, Retry, or Upgrade now$/);
    await page.click('.panel.retry button');
    await page.locator('.panel.retry').waitFor({ state: 'detached' });
    const shop = shopOf(await status(ctx.node));
    assert.is(shop.waitingFor, 'window', 'no longer held back as failed: it waits for its window like any change');
    assert.match(await textOf(page, '.headline'), /^Waiting for the maintenance window/);
    assert.equal(ctx.pageProblems, []);
  } finally {
    await stopConsole(ctx.served!);
    await writeAgentState(ctx.node.stateDir, before);
    ctx.served = null;
  }
});

test('pin from the page: the overlay has the pin and every original comment; unpin removes it', async (ctx) => {
  const page = await openApp(ctx, 'shop');
  await page.fill('.panel.pin input[name="version"]', '1.0.0');
  await page.click('.panel.pin button[type="submit"]');
  await messageSays(page, 'pinned shop to 1.0.0');
  const text = await overlayText(ctx.node);
  assert.match(text, /pin:\n {2}shop: 1\.0\.0/);
  assertCommentsKept(text);
  const shop = shopOf(await status(ctx.node));
  assert.ok(shop.pinned, 'duck status sees the pin');
  assert.match(await textOf(page, '.panel.pin'), /Pinned to 1\.0\.0/);
  await page.click('.panel.pin button:text-is("Unpin")');
  await messageSays(page, 'unpinned shop');
  assert.not.match(await overlayText(ctx.node), /pin:/);
  assertCommentsKept(await overlayText(ctx.node));
  assert.equal(ctx.pageProblems, []);
});

test('a pin to a version the accepted commit lacks is refused and the file is unchanged', async (ctx) => {
  const page = await openApp(ctx, 'shop');
  await page.fill('.panel.pin input[name="version"]', '9.9.9');
  await page.click('.panel.pin button[type="submit"]');
  assert.match(await messageSays(page, 'has no release shop 9.9.9'), /nothing was pinned/);
  assert.is(await overlayText(ctx.node), OVERLAY);
});

test('hold with a reason: duck status shows it held with that reason; unhold lifts it', async (ctx) => {
  const page = await openApp(ctx, 'shop');
  await page.fill('.panel.hold input[name="reason"]', 'quarter-end freeze');
  await page.fill('.panel.hold input[name="until"]', '2099-12-31');
  await page.click('.panel.hold button[type="submit"]');
  await messageSays(page, 'held: quarter-end freeze until 2099-12-31');
  let s = await status(ctx.node);
  assert.is(s.hold?.reason, 'quarter-end freeze');
  assert.is(shopOf(s).waitingFor, 'hold');
  assert.match(await textOf(page, '.headline'), /^Held until Fri 1 Jan 2100/);
  assertCommentsKept(await overlayText(ctx.node));
  await page.click('.panel.hold button.unhold');
  await messageSays(page, 'removed the hold');
  s = await status(ctx.node);
  assert.is(s.hold, null);
  assert.is(shopOf(s).waitingFor, 'window');
  assertCommentsKept(await overlayText(ctx.node));
  assert.equal(ctx.pageProblems, []);
});

test("Schedule: the picker in the node's zone sets the time; duck status waits until it", async (ctx) => {
  const page = await openApp(ctx, 'shop');
  const zone = (await status(ctx.node)).zone;
  assert.match(await textOf(page, '.panel.schedule label'), new RegExp(`\\(${zone.replace('/', '\\/')}\\)`), 'the picker names the zone');
  await page.fill('.panel.schedule input[name="at"]', '2099-06-01T03:30');
  await page.click('.panel.schedule button[type="submit"]');
  await messageSays(page, 'scheduled the upgrade of shop at 2099-06-01T03:30:00');
  const shop = shopOf(await status(ctx.node));
  assert.is(shop.waitingFor, 'schedule');
  // 03:30 on the node's clock, whatever zone the node is in.
  const local = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(shop.until!));
  assert.is(local, '03:30');
  assert.match(await textOf(page, '.headline'), /^Scheduled for Mon 1 Jun 2099, 03:30/);
  assert.match(await overlayText(ctx.node), /schedule:\n {2}shop:\n {4}at: 2099-06-01T03:30:00[+-]\d\d:\d\d/);
  assertCommentsKept(await overlayText(ctx.node));
  await consoleScreenshot(page, 'console-app-desktop.png');
  await page.setViewportSize(CONSOLE_VIEWPORTS.narrow);
  await consoleScreenshot(page, 'console-app-narrow.png');
  assert.equal(ctx.pageProblems, []);
});

test('settings: windows and approval saved from the page are what duck status --json says, comments kept', async (ctx) => {
  const page = await openSettings(ctx);
  assert.match(await textOf(page, '.windows-now'), /^In force: Sat 02:00 for 2h UTC, from the group/);
  await page.click('button.add-window');
  await page.fill('.window-row input[name="days-0"]', 'mon-fri');
  await page.fill('.window-row input[name="start-0"]', '23:00');
  await page.fill('.window-row input[name="duration-0"]', '4h');
  await page.click('.windows-form button[type="submit"]');
  await messageSays(page, 'windows set');
  let s = await status(ctx.node);
  assert.is(s.windows.from, 'overlay');
  assert.is(s.windows.list.length, 1);
  assert.match(s.windows.list[0]!, /^Mon-Fri 23:00 for 4h /);
  await page.check('.approval-form input[value="manual"]');
  await page.click('.approval-form button[type="submit"]');
  await messageSays(page, 'approval: manual');
  s = await status(ctx.node);
  assert.is(s.approval, 'manual');
  assert.is(shopOf(s).waitingFor, 'approval');
  const text = await overlayText(ctx.node);
  assertCommentsKept(text);
  assert.match(text, /approval: manual # set by ops/, 'the approval line keeps its own comment');
  assert.ok(await page.locator('.approval-form input[value="manual"]').isChecked(), 'the page shows what it saved');
  assert.equal(ctx.pageProblems, []);
});

test('an invalid window is refused naming the field, and the overlay file is unchanged', async (ctx) => {
  const page = await openSettings(ctx);
  await page.click('button.add-window');
  await page.fill('.window-row input[name="days-0"]', 'sat');
  await page.fill('.window-row input[name="start-0"]', '25:00');
  await page.fill('.window-row input[name="duration-0"]', '2h');
  await page.click('.windows-form button[type="submit"]');
  const refusal = await messageSays(page, '/windows/0/start');
  assert.match(refusal, /nothing was written/);
  assert.is(await page.locator('#message').getAttribute('data-kind'), 'error');
  assert.is(await overlayText(ctx.node), OVERLAY);
  // The refusal's 400 is the browser's network log line, not a fault of the page.
  assert.equal(
    ctx.pageProblems.filter((p) => !/status of 400/.test(p)),
    [],
  );
});

test('compose overrides edited from the page keep the comments of the lines around them', async (ctx) => {
  const page = await openSettings(ctx);
  const form = page.locator('.compose-form[data-app="shop"]');
  await form.locator('textarea[name="env"]').fill('PORT=8081\nMODE=local');
  await form.locator('button[type="submit"]').click();
  await messageSays(page, 'set the compose overrides of shop');
  const text = await overlayText(ctx.node);
  assert.match(text, /MODE: local/);
  assert.ok(text.includes('# local port, agreed with the network team'), text);
  assert.ok(text.includes('# end of the overlay'), text);
  assert.equal(ctx.pageProblems, []);
});

test('Check now fetches and verifies: the page shows the newly accepted commit; screenshots at both widths', async (ctx) => {
  await writeRelease(ctx.ch, 'shop', '1.2.0');
  const tip = await ctx.ch.commit('shop 1.2.0 published', ctx.host.rootKey);
  await ctx.ch.publish();
  const page = await openSettings(ctx);
  assert.not.ok((await textOf(page, '.panel.check .accepted'))!.includes(tip.slice(0, 12)));
  await page.click('.panel.check button.check-now');
  await messageSays(page, `accepted ${tip.slice(0, 12)} (new)`);
  assert.match(await textOf(page, '.panel.check .accepted'), new RegExp(`Accepted ${tip.slice(0, 12)}, signed by`));
  assert.is((await status(ctx.node)).channel.accepted.commit, tip);
  assert.match(await textOf(page, '.panel.agent-config'), /agent\.yaml, not in the overlay/);
  assert.ok((await page.locator('.panel.agent-config .keys code').count()) >= 1, 'the trust keys are shown by fingerprint');
  await consoleScreenshot(page, 'console-settings-desktop.png');
  await page.setViewportSize(CONSOLE_VIEWPORTS.narrow);
  await consoleScreenshot(page, 'console-settings-narrow.png');
  assert.equal(ctx.pageProblems, []);
});

it.run();
