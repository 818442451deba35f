// A real duck-controller for tests: createApp + server.ts in this process, on 127.0.0.1, with
// its own data directory. restart() stops it and starts a fresh one on the same port and data,
// so whatever survives is what the store persisted. Suites get one in their context, and agent
// nodes that report to it. With DUCK_TEST_STORE=postgres each controller keeps its fleet in a
// PostgreSQL database of its own (test/helpers/postgres.ts), dropped when it stops.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { create } from 'tar';
import { suite, type Test } from 'uvu';
import type { AgentStatus, AgentUpdateStatus, AppStatus, ChangeOutcome, ChannelStatus, ControllerConfig, NodeFacts, ReportEvent, ReportMessage } from '../../schemas/index.js';
import type { AnnouncementCount } from '../../controller/src/announcement-counts.js';
import { startController, type RunningController, type StartOptions } from '../../controller/src/server.js';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { makeAgentNode } from '../../examples/harness/agent-node.js';
import type { TestKey } from '../../examples/harness/keys.js';
import { makeOpenpgpKey } from '../../examples/harness/keys.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { createTestDatabase, databaseForDataDir, type TestDatabase } from './postgres.js';

export interface TestControllerOptions {
  dataDir?: string;
  port?: number;
  maxDiagnosticsBytes?: number;
  alertWebhook?: string;
  alertThreshold?: number;
  alertMinAttempts?: number;
  offlineAfterMs?: number;
  /** How old GET /api/v1/fleet's summary may be (default 0: fresh per request). */
  summaryMaxAgeMs?: number;
  /** The same tokens as another test controller (its successor on a fresh data dir); random otherwise. */
  tokens?: { enrollToken: string; adminToken: string; readToken?: string };
}

export interface TestController {
  readonly url: string;
  readonly enrollToken: string;
  readonly adminToken: string;
  /** The read-only token (GET routes of the admin API). */
  readonly readToken: string;
  readonly dataDir: string;
  /** Stops the controller; removes the data directory when the helper made it. */
  stop(): Promise<void>;
  /** Stops and starts again: same port, same data dir, new process state. */
  restart(): Promise<void>;
}

export async function startTestController(opts: TestControllerOptions = {}): Promise<TestController> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await makeTempDir('duck-controller-'));
  const enrollToken = opts.tokens?.enrollToken ?? `enroll-${randomBytes(12).toString('hex')}`;
  const adminToken = opts.tokens?.adminToken ?? `admin-${randomBytes(12).toString('hex')}`;
  const readToken = opts.tokens?.readToken ?? `read-${randomBytes(12).toString('hex')}`;
  const database: TestDatabase | null =
    process.env.DUCK_TEST_STORE !== 'postgres' ? null : ownDir ? await createTestDatabase('duck_ctl') : await databaseForDataDir(dataDir);
  const options = (port: number): StartOptions => ({
    dataDir,
    ...(database ? { storeUrl: database.url } : {}),
    enrollToken,
    adminToken,
    readToken,
    port,
    host: '127.0.0.1',
    maxDiagnosticsBytes: opts.maxDiagnosticsBytes,
    alertWebhook: opts.alertWebhook,
    alertThreshold: opts.alertThreshold,
    alertMinAttempts: opts.alertMinAttempts,
    offlineAfterMs: opts.offlineAfterMs,
    summaryMaxAgeMs: opts.summaryMaxAgeMs,
    alertMinTimeoutMs: 20,
  });
  let running: RunningController | null = await startController(options(opts.port ?? 0));
  const port = running.port;
  const url = running.url;
  return {
    url,
    enrollToken,
    adminToken,
    readToken,
    dataDir,
    async stop() {
      await running?.close();
      running = null;
      if (ownDir) await removeTempDir(dataDir);
      if (ownDir) await database?.drop();
    },
    async restart() {
      await running?.close();
      running = null;
      running = await startController(options(port));
    },
  };
}

/**
 * A uvu suite whose context holds a running test controller as `ctl`: one for the whole suite, or a
 * fresh one for each test (`each`), so no test sees another's agents.
 */
export function controllerSuite<T extends object = object>(
  name: string,
  opts: { each?: boolean; controller?: TestControllerOptions } = {},
): Test<T & { ctl: TestController }> {
  const test = suite<T & { ctl: TestController }>(name, {} as T & { ctl: TestController });
  const start = async (ctx: { ctl: TestController }): Promise<void> => {
    ctx.ctl = await startTestController(opts.controller);
  };
  const stop = async (ctx: { ctl: TestController }): Promise<void> => {
    await ctx.ctl.stop();
  };
  if (opts.each) {
    test.before.each(start);
    test.after.each(stop);
  } else {
    test.before(start);
    test.after(stop);
  }
  return test;
}

export interface ReportingContext {
  ctl: TestController;
  /** The root key the nodes trust; their channel never answers. */
  key: TestKey;
  nodes: AgentNode[];
}

/** A controllerSuite for agents that report: a root key too, and the nodes reportingNode made are removed after. */
export function reportingSuite(name: string, keyName: string): Test<ReportingContext> {
  const test = controllerSuite<Omit<ReportingContext, 'ctl'>>(name);
  test.before(async (ctx) => {
    ctx.key = await makeOpenpgpKey(keyName);
    ctx.nodes = [];
  });
  test.after(async (ctx) => {
    for (const node of ctx.nodes) await removeTempDir(node.dir);
  });
  return test;
}

/** Nothing answers here: a node that only reports needs no channel. */
const NO_CHANNEL = 'http://127.0.0.1:9/releases.git';

/**
 * A node whose config names the controller (`ctl`, else the suite's) with its enrollment token, in
 * the config or, with `tokenFile`, in a file beside it (enrollTokenFile); `controller` adds to that
 * section and `channelToken` is the channel's token.
 */
export async function reportingNode(
  ctx: ReportingContext,
  opts: { ctl?: TestController; tokenFile?: boolean; controller?: Partial<ControllerConfig>; channelToken?: string } = {},
): Promise<AgentNode> {
  const ctl = opts.ctl ?? ctx.ctl;
  const enrollment = opts.tokenFile ? { enrollTokenFile: 'enroll-token' } : { enrollToken: ctl.enrollToken };
  const node = await makeAgentNode({
    url: NO_CHANNEL,
    rootKeys: [ctx.key],
    token: opts.channelToken,
    controller: { url: ctl.url, ...enrollment, interval: '1h', ...opts.controller },
  });
  ctx.nodes.push(node);
  if (opts.tokenFile) await writeFile(join(node.dir, 'enroll-token'), `${ctl.enrollToken}
`);
  return node;
}

/** GET with the admin token; throws with the status and body on anything but 2xx. */
/** GET /api/v1/announcements: per announcement id, the nodes that see it and that acknowledged it. */
export async function announcementCountsOf(ctl: Pick<TestController, 'url' | 'adminToken'>): Promise<AnnouncementCount[]> {
  return (await adminJson<{ announcements: AnnouncementCount[] }>(ctl, '/api/v1/announcements')).announcements;
}

export async function adminJson<T>(ctl: Pick<TestController, 'url' | 'adminToken'>, path: string): Promise<T> {
  const res = await fetch(`${ctl.url}${path}`, { headers: { authorization: `Bearer ${ctl.adminToken}` } });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

// ── builders for what agents send ──────────────────────────────────────────────────────────────

export function buildFacts(overrides: Partial<NodeFacts> = {}): NodeFacts {
  return {
    hostname: 'node-1',
    os: 'linux 6.1.0 (Debian GNU/Linux 12)',
    arch: 'x64',
    agentVersion: '0.1.0',
    docker: '24.0.7',
    compose: 'v2 2.29.1',
    group: 'production',
    ...overrides,
  };
}

export function buildApp(app: string, current: string | null, overrides: Partial<AppStatus> = {}): AppStatus {
  return { app, current, desired: current, decision: 'none', reason: `${current ?? 'nothing'} runs`, state: 'running', ...overrides };
}

export interface ReportShape {
  group?: string;
  apps?: AppStatus[];
  events?: ReportEvent[];
  channel?: Partial<ChannelStatus>;
  facts?: NodeFacts;
  sentAt?: string;
  /** status.agent: the agent's own build and its self-update decision. */
  agent?: AgentUpdateStatus;
  /** status.announcements and status.acknowledged: the notices in force on the node and those acknowledged. */
  announcements?: AgentStatus['announcements'];
  acknowledged?: string[];
}

export function buildReport(agentId: string, shape: ReportShape = {}): ReportMessage {
  return {
    agentId,
    sentAt: shape.sentAt ?? new Date().toISOString(),
    ...(shape.facts ? { facts: shape.facts } : {}),
    status: {
      group: shape.group ?? 'production',
      channel: { commit: 'a'.repeat(40), committedAt: '2026-01-01T00:00:00Z', stale: false, refusal: null, ...shape.channel },
      apps: shape.apps ?? [buildApp('shop', '1.0.0')],
      ...(shape.agent ? { agent: shape.agent } : {}),
      ...(shape.announcements ? { announcements: shape.announcements } : {}),
      ...(shape.acknowledged ? { acknowledged: shape.acknowledged } : {}),
    },
    events: shape.events ?? [],
  };
}

let eventSeq = 0;
/** A change event with a fresh id. */
export function buildChange(app: string, from: string | null, to: string, outcome: ChangeOutcome, overrides: Partial<ReportEvent> = {}): ReportEvent {
  eventSeq++;
  return { id: `ev-${process.pid}-${eventSeq}-${randomBytes(4).toString('hex')}`, at: new Date().toISOString(), type: 'upgrade', outcome, app, from, to, ...overrides };
}

/** status.agent of an agent running `current` with nothing to do, unless `overrides` say otherwise. */
export function buildAgentUpdate(current: string, overrides: Partial<AgentUpdateStatus> = {}): AgentUpdateStatus {
  return { current, desired: current, decision: 'none', reason: `agent ${current} runs`, failed: [], ...overrides };
}

/** An agent-update event (the agent's own build, no app) with a fresh id. */
export function buildAgentUpdateEvent(from: string, to: string, outcome: ChangeOutcome, overrides: Partial<ReportEvent> = {}): ReportEvent {
  const { app: _app, ...change } = buildChange('none', from, to, outcome);
  return { ...change, type: 'agent-update', reason: `agent ${from} → ${to}: ${outcome}`, ms: 41_000, ...overrides };
}

/** Enrolls over HTTP with the fleet token; returns the agent's own token. */
export async function enrollAgent(ctl: Pick<TestController, 'url' | 'enrollToken'>, agentId: string, facts: NodeFacts = buildFacts()): Promise<string> {
  const res = await fetch(`${ctl.url}/api/v1/agents/register`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctl.enrollToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agentId, facts }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`enrolling ${agentId} answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { token: string }).token;
}

const enrolledTokens = new Map<string, string>();

/** Enrolls `agentId` on first use (its token kept per controller) and posts a report of `shape`; throws unless 200. */
export async function reportAs(ctl: Pick<TestController, 'url' | 'enrollToken'>, agentId: string, shape: ReportShape): Promise<void> {
  const key = `${ctl.url} ${agentId}`;
  let token = enrolledTokens.get(key);
  if (token === undefined) enrolledTokens.set(key, (token = await enrollAgent(ctl, agentId, buildFacts({ hostname: agentId }))));
  const res = await postReport(ctl, token, buildReport(agentId, shape));
  if (res.status !== 200) throw new Error(`report of ${agentId} answered ${res.status}: ${await res.text()}`);
}

/** POSTs a report with an agent token; the raw Response, for status checks. */
export function postReport(ctl: Pick<TestController, 'url'>, token: string, report: unknown): Promise<Response> {
  return fetch(`${ctl.url}/api/v1/reports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof report === 'string' ? report : JSON.stringify(report),
  });
}

/** A gzip-compressed tar of these files (path → content), made by the same library `duck diagnostics` uses. */
export async function tarGzOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const dir = await makeTempDir('duck-tar-');
  try {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of create({ gzip: true, cwd: dir, portable: true }, Object.keys(files))) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    await removeTempDir(dir);
  }
}
