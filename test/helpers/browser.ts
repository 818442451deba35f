/**
 * Headless Chromium for the dashboard test: Debian's `chromium` driven through playwright-core (no
 * browser download). With CI=true a missing Chromium is a failure; elsewhere the test is skipped
 * with a note, as the e2e tier does without a Docker engine.
 */
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { suite, type Callback, type Test } from 'uvu';

export const CHROMIUM_PATH = process.env.DUCK_CHROMIUM ?? '/usr/bin/chromium';

export const onCI = process.env.CI === 'true' || process.env.CI === '1';

export type ChromiumStatus = { ok: true } | { ok: false; why: string };

export async function chromiumStatus(): Promise<ChromiumStatus> {
  try {
    await access(CHROMIUM_PATH, constants.X_OK);
    return { ok: true };
  } catch {
    return { ok: false, why: `no executable Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set DUCK_CHROMIUM)` };
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 60_000,
  });
}

/** Where a test keeps what it shows (screenshots): DUCK_TEST_ARTIFACTS from test/run-tiers.mjs, else test-artifacts/. */
export async function artifactPath(name: string): Promise<string> {
  const dir = process.env.DUCK_TEST_ARTIFACTS ?? fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
  await mkdir(dir, { recursive: true });
  return join(dir, name);
}

/**
 * Polls `check` until it holds; on timeout fails with `what` and the last value seen. Written
 * against locators, so tests need no DOM types (the project compiles without lib "dom").
 */
export async function until<T>(read: () => Promise<T>, holds: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (holds(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last saw ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A page in a new browser context; script and console errors (a CSP violation is one) go to `problems`. */
export async function openPage(browser: Browser, problems: string[], options: { acceptDownloads?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  return { context, page };
}

/** A new page signed in to the dashboard at `ctl.url` with the admin token, the overview shown. */
export async function signIn(browser: Browser, ctl: { url: string; adminToken: string }, problems: string[]): Promise<Page> {
  const { page } = await openPage(browser, problems);
  await page.goto(ctl.url);
  await page.locator('#login').waitFor({ state: 'visible' });
  await page.fill('#token', ctl.adminToken);
  await page.click('#login-form button[type="submit"]');
  await page.locator('.tiles .tile[data-state="ok"]').waitFor();
  return page;
}

export interface BrowserContextOf {
  browser: Browser;
  /** Script errors and console errors (a CSP violation is one) the page raised. */
  pageProblems: string[];
  setupError?: unknown;
}

/**
 * A uvu suite with a Chromium in its context: `setup` runs once after the launch, `teardown` once
 * at the end. `test` is the suite, or its skip when there is no Chromium (with CI=true that is a
 * failing test instead); a setup error fails every test rather than vanish in uvu.
 */
export async function browserSuite<T extends BrowserContextOf>(
  name: string,
  setup: (ctx: T) => Promise<void>,
  teardown: (ctx: T) => Promise<void>,
): Promise<{ it: Test<T>; test: (name: string, fn: Callback<T>) => void }> {
  const status = await chromiumStatus();
  const it = suite<T>(name, { pageProblems: [] } as unknown as T);
  if (!status.ok && onCI) {
    it('the browser test runs (CI=true: a missing Chromium fails, never skips)', () => {
      assert.unreachable(`${status.why}; .ci/run installs it`);
    });
  } else if (!status.ok) {
    console.log(`note: ${name}: skipped: ${status.why} (set CI=true to make this fatal)`);
  }
  it.before(async (ctx) => {
    if (!status.ok) return;
    // uvu swallows an error thrown here and runs no test; keep it for before.each to throw.
    try {
      ctx.browser = await launchChromium();
      await setup(ctx);
    } catch (err) {
      ctx.setupError = err;
    }
  });
  it.before.each((ctx) => {
    if (ctx.setupError) throw ctx.setupError;
  });
  it.after(async (ctx) => {
    await ctx.browser?.close().catch(() => undefined);
    await teardown(ctx);
  });
  return { it, test: status.ok ? it : it.skip };
}
