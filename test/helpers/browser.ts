/**
 * Headless Chromium for the dashboard test: Debian's `chromium` driven through playwright-core (no
 * browser download). With CI=true a missing Chromium is a failure; elsewhere the test is skipped
 * with a note, as the e2e tier does without a Docker engine.
 */
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

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
