// The node's console as tests drive it: `duck console --open` run until it prints its link, and
// requests with the headers a test chooses (fetch would not let it forge `Host`).
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { DUCK_BIN } from '../../examples/harness/agent-node.js';
import { artifactPath, openPage } from './browser.js';
import type { Channel, ChannelHost } from './channel-builder.js';
import { startChannelHost } from './channel-builder.js';
import { writeChannelYaml, writeGroup, writeRelease } from './channel-fixtures.js';

export interface Served {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** The token of the link `--open` printed. */
  readonly token: string;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown> | null;
  text: string;
}

/** One request with the headers a test chooses (fetch would not let it forge `Host`). */
export function call(origin: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<Reply> {
  const url = new URL(path, origin);
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    // The TLS test's certificate is self-signed: what is checked is the console, not the chain.
    const req = request(url, { method: opts.method ?? 'GET', rejectUnauthorized: false, headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...opts.headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: Record<string, unknown> | null = null;
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = null;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
    });
    req.on('error', reject);
    // A server that never answers fails the test instead of hanging it.
    req.setTimeout(30_000, () => req.destroy(new Error(`${opts.method ?? 'GET'} ${path}: no answer`)));
    req.end(payload);
  });
}

/** POST /api/login as the page does it: from the console's own origin. */
export function login(origin: string, token: string, headers: Record<string, string> = {}): Promise<Reply> {
  return call(origin, '/api/login', { method: 'POST', headers: { origin, ...headers }, body: { token } });
}

export function sessionOf(reply: Reply): string {
  const cookie = (reply.headers['set-cookie'] as string[] | undefined)?.[0];
  assert.ok(cookie, 'a session cookie is set');
  return cookie.split(';')[0]!;
}

/** Runs `duck console --open` until it prints its login link. */
export async function serveConsole(node: AgentNode, ...args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [DUCK_BIN, 'console', '--open', ...args, '--config', node.configFile], { cwd: node.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const link = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const found = /^(https?:\/\/\S+\/login#\S+)$/m.exec(out);
      if (found) resolve(found[1]!);
    });
    child.once('exit', (code) => reject(new Error(`duck console exited ${code}: ${err}`)));
  });
  const url = new URL(link);
  return { child, origin: url.origin, token: url.hash.slice(1) };
}

export async function stopConsole(served: Served): Promise<void> {
  if (served.child.exitCode !== null) return;
  const exited = once(served.child, 'exit');
  served.child.kill('SIGTERM');
  // A console that does not stop on SIGTERM fails the test instead of hanging the suite.
  let killed = false;
  const killer = setTimeout(() => {
    killed = true;
    served.child.kill('SIGKILL');
  }, 20_000);
  await exited;
  clearTimeout(killer);
  assert.not.ok(killed, 'duck console stops on SIGTERM');
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}


/** Opens the console's one-time link in a new Chromium page and waits for the dashboard. */
export async function openConsolePage(browser: Browser, served: Served, problems: string[], viewport = { width: 1280, height: 900 }): Promise<Page> {
  const { page } = await openPage(browser, problems);
  await page.setViewportSize(viewport);
  await page.goto(`${served.origin}/login#${served.token}`);
  await page.locator('main h1', { hasText: 'Dashboard' }).waitFor();
  return page;
}

/** A full-page screenshot under test-artifacts/ (CI keeps them). */
export async function consoleScreenshot(page: Page, name: string): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: await artifactPath(name), fullPage: true });
}

/** The widths every page is shown at in the screenshots: a desktop and a phone. */
export const CONSOLE_VIEWPORTS = { desktop: { width: 1280, height: 900 }, narrow: { width: 390, height: 844 } } as const;

/** What a browser suite of the console keeps per test: the node and the `duck console` serving it. */
export interface ConsoleSuiteContext {
  node: AgentNode;
  served: Served | null;
  pageProblems: string[];
}

/** Each test of `it` gets a fresh `duck console --open --port 0` on `ctx.node` and no page problems yet. */
export function serveConsoleEachTest<T extends ConsoleSuiteContext>(it: Test<T>): void {
  it.before.each(async (ctx) => {
    ctx.pageProblems.length = 0;
    ctx.served = await serveConsole(ctx.node, '--port', '0');
  });
  it.after.each(async (ctx) => {
    if (ctx.served) await stopConsole(ctx.served);
    ctx.served = null;
  });
}

export interface ShopNode {
  readonly host: ChannelHost;
  readonly ch: Channel;
  readonly node: AgentNode;
}

/**
 * What the console's page suites start from: a channel with shop 1.1.0 in production (its release
 * notes as given), published, and a node that has verified it — so the dashboard has a commit and
 * an app to show, with no engine.
 */
export async function verifiedShopNode(prefix: string, opts: { notes?: string } = {}): Promise<ShopNode> {
  const host = await startChannelHost(prefix);
  const { ch, node } = await host.fresh();
  await writeChannelYaml(ch, { version: 1, signers: [host.rootKey] });
  await writeRelease(ch, 'shop', '1.1.0', undefined, opts.notes === undefined ? undefined : { notes: opts.notes });
  await writeGroup(ch, 'production', { shop: '1.1.0' });
  await ch.commit('shop 1.1.0', host.rootKey);
  await ch.publish();
  const verified = await node.duck('verify');
  if (verified.code !== 0) throw new Error(`duck verify: ${verified.stderr}`);
  return { host, ch, node };
}
