// Issue 16 point 2, the console's diagnostics page in real Chromium against the real `duck console`
// and a real duck-controller on loopback: the page lists what the bundle holds (files, sizes,
// redactions) and sends nothing until the button naming the controller is clicked; the upload
// lands on the controller byte for byte; a stopped controller's error is shown and the archive is
// kept. Screenshots (desktop and narrow) go to test-artifacts/.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import * as assert from 'uvu/assert';
import { makeAgentNode, type AgentNode } from '../../examples/harness/agent-node.js';
import { makeOpenpgpKey } from '../../examples/harness/keys.js';
import { removeTempDir } from '../../examples/harness/tmp.js';
import { browserSuite, type BrowserContextOf } from '../helpers/browser.js';
import type { Served } from '../helpers/console.js';
import { CONSOLE_VIEWPORTS, consoleScreenshot, openConsolePage, serveConsoleEachTest } from '../helpers/console.js';
import { adminJson, startTestController, type TestController } from '../helpers/controller.js';

const CHANNEL_SECRET = 'chan-token-console-7d41e2';

interface Ctx extends BrowserContextOf {
  ctl: TestController;
  node: AgentNode;
  served: Served | null;
}

interface Listed {
  diagnostics: { id: string; bytes: number; sha256: string }[];
}

const { it, test } = await browserSuite<Ctx>(
  'console: the diagnostics page in Chromium, with a real controller',
  async (ctx) => {
    ctx.ctl = await startTestController();
    // Nothing answers at the channel: the bundle needs none, and the node enrolls on its first upload.
    ctx.node = await makeAgentNode({
      url: 'http://127.0.0.1:9/releases.git',
      rootKeys: [await makeOpenpgpKey('console-diag-root')],
      token: CHANNEL_SECRET,
      controller: { url: ctx.ctl.url, enrollToken: ctx.ctl.enrollToken, interval: '1h' },
    });
  },
  async (ctx) => {
    await ctx.ctl?.stop();
    if (ctx.node) await removeTempDir(ctx.node.dir);
  },
);

serveConsoleEachTest(it);

async function openDiagnostics(ctx: Ctx): Promise<Page> {
  const page = await openConsolePage(ctx.browser, ctx.served!, ctx.pageProblems);
  await page.locator('#nav a', { hasText: 'Diagnostics' }).click();
  await page.locator('.diag-table').waitFor();
  return page;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

test('the page lists the files with sizes and redactions, sends nothing until the click, then the upload lands on the controller', async (ctx) => {
  const page = await openDiagnostics(ctx);
  const paths = await page.locator('.diag-table tbody .diag-path').allTextContents();
  assert.ok(paths.includes('config/agent.yaml'), paths.join('\n'));
  assert.ok(paths.includes('missing.txt'), paths.join('\n'));
  const configRow = page.locator('.diag-table tbody tr', { hasText: 'config/agent.yaml' });
  assert.match((await configRow.textContent()) ?? '', /\d+ bytes|KiB/);
  // The channel token and the enrollment token are in agent.yaml: both are cut out of its copy.
  const redacted = /^(\d+) redacted$/.exec((await configRow.locator('.diag-redacted').textContent()) ?? '');
  assert.ok(redacted && Number(redacted[1]) >= 2, `the config's redactions: ${redacted?.[0]}`);
  assert.match((await page.locator('.diag-redactions').textContent()) ?? '', /^\d+ values were redacted/);
  const archive = ((await page.locator('.diag-archive').textContent()) ?? '').trim();
  assert.ok(archive.startsWith(ctx.node.stateDir), archive);
  assert.ok(existsSync(archive), 'the archive is built on the node');
  const send = page.locator('button.diag-send');
  assert.is(((await send.textContent()) ?? '').trim(), `Upload to ${ctx.ctl.url}`, 'the button says where the bundle goes');
  assert.equal((await adminJson<Listed>(ctx.ctl, '/api/v1/diagnostics')).diagnostics, [], 'nothing sent before the click');
  await consoleScreenshot(page, 'console-diagnostics-desktop.png');
  await page.setViewportSize(CONSOLE_VIEWPORTS.narrow);
  await consoleScreenshot(page, 'console-diagnostics-narrow.png');

  await send.click();
  const done = page.locator('.diag-result .act-ok');
  await done.waitFor();
  const listed = (await adminJson<Listed>(ctx.ctl, '/api/v1/diagnostics')).diagnostics;
  assert.is(listed.length, 1, JSON.stringify(listed));
  const local = await readFile(archive);
  assert.is(listed[0]!.sha256, sha256(local), 'the controller has the very archive the page listed');
  assert.match((await done.textContent()) ?? '', new RegExp(`Uploaded to .* as ${listed[0]!.id}`));
  assert.equal(ctx.pageProblems, []);
});

test("a stopped controller's error is shown, nothing is lost: the archive stays and the button can try again", async (ctx) => {
  const page = await openDiagnostics(ctx);
  const archive = ((await page.locator('.diag-archive').textContent()) ?? '').trim();
  await ctx.ctl.stop();
  await page.locator('button.diag-send').click();
  const failed = page.locator('.diag-result .act-error');
  await failed.waitFor();
  const message = (await failed.textContent()) ?? '';
  assert.match(message, `the upload to ${ctx.ctl.url} failed`);
  assert.match(message, `nothing was lost, the archive is kept at ${archive}`);
  assert.ok(existsSync(archive), 'the archive is kept');
  assert.is(await page.locator('button.diag-send').isDisabled(), false, 'the operator may try again');
  // The failed POST is logged by Chromium as a failed load; nothing else may be.
  assert.equal(
    ctx.pageProblems.filter((p) => !/Failed to load resource: the server responded with a status of 502/.test(p)),
    [],
  );
});

it.run();
