/**
 * A fleet for the dashboard test, made the way agents make it: each agent enrolls with the fleet
 * token and reports over real HTTP with its own token; one uploads a diagnostics bundle. The fleet
 * is data (FLEET) so a test can say what the dashboard must show without reading the controller.
 */
import { createHash } from 'node:crypto';
import type { AppStatus, ChannelStatus, NodeFacts, ReportEvent, ReportMessage } from '../../schemas/index.js';
import { buildApp, buildFacts, enrollAgent, postReport, tarGzOf } from './controller.js';

export const COMMIT = 'a3f9c2d18e4b7a6c5d0e1f2a3b4c5d6e7f809a1b';
const HOUR = 3_600_000;

export interface SeedAgent {
  agentId: string;
  hostname: string;
  group: string;
  apps: AppStatus[];
  channel?: Partial<ChannelStatus>;
  /** An operator holds all changes (duck hold). */
  held?: boolean;
  /** Oldest first, as an agent sends them; `hoursAgo` places them in time. */
  events?: Array<Omit<ReportEvent, 'id' | 'at'> & { hoursAgo: number }>;
}

export interface EnrolledAgent extends SeedAgent {
  token: string;
}

function app(name: string, current: string, desired = current, decision: AppStatus['decision'] = 'none', reason = `${current} runs`): AppStatus {
  return buildApp(name, current, { desired, decision, reason });
}

const waitForWindow = 'waiting for window sat 02:00 Asia/Shanghai';

/**
 * 12 agents. canary: hello 1.1.0 everywhere, shop 2.0.0 on two and rolled back to 1.9.0 on the
 * third (failed). production: hello 1.1.0 on three, 1.0.0 on six (three waiting for a window, one
 * updating, one stale, one refused); shop 1.9.0 everywhere. One hostname carries markup, which the
 * page must show as text.
 */
export const FLEET: readonly SeedAgent[] = [
  ...[1, 2].map((n): SeedAgent => ({
    agentId: `canary-${n}`,
    hostname: `cn-edge-0${n}`,
    group: 'canary',
    apps: [app('hello', '1.1.0'), app('shop', '2.0.0')],
    events: [{ hoursAgo: 5, type: 'upgrade', outcome: 'applied', app: 'shop', from: '1.9.0', to: '2.0.0', reason: 'in window', ms: 38_000 }],
  })),
  {
    agentId: 'canary-3',
    hostname: 'cn-edge-03',
    group: 'canary',
    apps: [
      app('hello', '1.1.0'),
      { ...app('shop', '1.9.0', '2.0.0', 'none', '2.0.0 failed here; waits for a new commit or duck upgrade'), state: 'failed', failedVersion: '2.0.0' },
    ],
    events: [
      { hoursAgo: 30, type: 'install', outcome: 'applied', app: 'hello', from: null, to: '1.1.0', reason: 'new app in the group' },
      { hoursAgo: 6, type: 'backup', app: 'shop', reason: 'before 1.9.0 → 2.0.0' },
      {
        hoursAgo: 5,
        type: 'upgrade',
        outcome: 'rolled-back',
        app: 'shop',
        from: '1.9.0',
        to: '2.0.0',
        reason: 'health: http://127.0.0.1:8080/health answered 500, expected 200',
        commit: COMMIT,
        ms: 95_000,
      },
    ],
  },
  ...[1, 2, 3].map((n): SeedAgent => ({
    agentId: `production-${n}`,
    hostname: `pr-shop-0${n}`,
    group: 'production',
    apps: [app('hello', '1.1.0'), app('shop', '1.9.0')],
    events: [{ hoursAgo: 2, type: 'upgrade', outcome: 'applied', app: 'hello', from: '1.0.0', to: '1.1.0', reason: 'rollout 33%', ms: 12_000 }],
  })),
  {
    agentId: 'production-4',
    hostname: 'pr-shop-04<img src=x id=injected>',
    group: 'production',
    apps: [app('hello', '1.0.0', '1.1.0', 'wait', 'update lock held: lock/updates.lock'), app('shop', '1.9.0')],
    events: [{ hoursAgo: 1, type: 'upgrade', outcome: 'deferred', app: 'hello', from: '1.0.0', to: '1.1.0', reason: 'update lock held: lock/updates.lock' }],
  },
  ...[5, 6].map((n): SeedAgent => ({
    agentId: `production-${n}`,
    hostname: `pr-shop-0${n}`,
    group: 'production',
    apps: [app('hello', '1.0.0', '1.1.0', 'wait', waitForWindow), app('shop', '1.9.0')],
  })),
  {
    agentId: 'production-7',
    hostname: 'pr-shop-07',
    group: 'production',
    apps: [app('hello', '1.0.0'), app('shop', '1.9.0')],
    channel: { stale: true },
  },
  {
    agentId: 'production-8',
    hostname: 'pr-shop-08',
    group: 'production',
    apps: [app('hello', '1.0.0'), app('shop', '1.9.0')],
    channel: {
      refusal: { reason: 'unsigned', message: 'commit 9d1e… is not signed by a key in channel.yaml', at: new Date(Date.now() - HOUR).toISOString() },
    },
    events: [{ hoursAgo: 1, type: 'channel-refused', reason: 'unsigned: commit 9d1e… is not signed by a key in channel.yaml' }],
  },
  {
    agentId: 'production-9',
    hostname: 'pr-shop-09',
    group: 'production',
    apps: [app('hello', '1.0.0', '1.1.0', 'apply', 'in window sat 02:00 Asia/Shanghai'), app('shop', '1.9.0')],
  },
];

export function factsOf(agent: SeedAgent): NodeFacts {
  return buildFacts({
    hostname: agent.hostname,
    os: 'linux 6.1.0-28-amd64 (Debian GNU/Linux 12 (bookworm))',
    docker: '20.10.24',
    compose: 'v1 1.29.2',
    group: agent.group,
  });
}

export async function enroll(baseUrl: string, enrollToken: string, agent: SeedAgent): Promise<EnrolledAgent> {
  return { ...agent, token: await enrollAgent({ url: baseUrl, enrollToken }, agent.agentId, factsOf(agent)) };
}

export function reportOf(agent: SeedAgent, now = Date.now()): ReportMessage {
  const channel: ChannelStatus = {
    commit: COMMIT,
    committedAt: new Date(now - 26 * HOUR).toISOString(),
    acceptedAt: new Date(now - 25 * HOUR).toISOString(),
    lastCheckAt: new Date(now - 60_000).toISOString(),
    stale: false,
    refusal: null,
    ...agent.channel,
  };
  const events = (agent.events ?? []).map(({ hoursAgo, ...event }, i) => ({
    id: `${agent.agentId}-event-${i + 1}`,
    at: new Date(now - hoursAgo * HOUR).toISOString(),
    ...event,
  }));
  const status = { group: agent.group, ...(agent.held ? { held: true } : {}), channel, apps: agent.apps };
  return { agentId: agent.agentId, sentAt: new Date(now).toISOString(), status, events };
}

export async function sendReport(baseUrl: string, agent: EnrolledAgent, report: ReportMessage = reportOf(agent)): Promise<void> {
  const res = await postReport({ url: baseUrl }, agent.token, report);
  if (!res.ok) throw new Error(`POST ${baseUrl}/api/v1/reports answered ${res.status}: ${await res.text()}`);
}

export interface UploadedBundle {
  filename: string;
  sha256: string;
  bytes: number;
}

/** A small bundle (a gzip-compressed tar), uploaded as `duck diagnostics --upload` does. */
export async function uploadDiagnostics(baseUrl: string, agent: EnrolledAgent, filename: string): Promise<UploadedBundle> {
  const body = await tarGzOf({ 'duck-diagnostics/agent.log': `diagnostics of ${agent.hostname}\n`.repeat(200) });
  const res = await fetch(`${baseUrl}/api/v1/diagnostics`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${agent.token}`, 'Content-Type': 'application/gzip', 'X-Duck-Filename': filename },
    body,
  });
  if (!res.ok) throw new Error(`POST /api/v1/diagnostics answered ${res.status}: ${await res.text()}`);
  return { filename, sha256: createHash('sha256').update(body).digest('hex'), bytes: body.length };
}

/** Enrolls and reports every agent of FLEET; returns them with their tokens. */
export async function seedFleet(baseUrl: string, enrollToken: string): Promise<EnrolledAgent[]> {
  const agents = await Promise.all(FLEET.map((agent) => enroll(baseUrl, enrollToken, agent)));
  await Promise.all(agents.map((agent) => sendReport(baseUrl, agent)));
  return agents;
}

// ── what an operator must see (issue 12 §10, §13) ───────────────────────────────────────────────

const MINUTE = 60_000;
/** ISO times relative to `now`, so the fleet is made when it is sent, not when the module loads. */
type Stamp = (offsetMs: number) => string;
const NO_SPACE = 'no space left on /var/lib/docker: 120 MB free, 2 GB needed';

/** hello as a node of a group that asks 1.1.0 reports it. */
function edgeHello(current: string, overrides: Partial<AppStatus> = {}): AppStatus {
  return buildApp('hello', current, { desired: '1.1.0', groupVersion: '1.1.0', ...overrides });
}

function unreachable(at: Stamp, minutesFailing: number, failures: number, message: string): Partial<ChannelStatus> {
  return { fetchFailure: { reason: 'fetch', message, since: at(-minutesFailing * MINUTE), at: at(-MINUTE), failures, nextTryAt: at(4 * MINUTE) } };
}

/**
 * Group edge asks hello 1.1.0: a pinned node, a window wait, an operator stop, a hold, a back-off
 * after three failures that stopped nothing, two nodes that cannot reach the channel (one message
 * carries markup), and shop 2.0.0 failing by the release on one node and by the engine on another.
 * Group lab has one node only, pinned to 1.0.0 while the group asks 1.1.0. Sent in this order.
 */
export function operatorFleet(now = Date.now()): SeedAgent[] {
  const at: Stamp = (offsetMs) => new Date(now + offsetMs).toISOString();
  return [
    {
      agentId: 'edge-up-2',
      hostname: 'edge-02',
      group: 'edge',
      apps: [edgeHello('1.1.0'), buildApp('shop', '1.9.0', { desired: '2.0.0', groupVersion: '2.0.0', decision: 'wait', waitingFor: 'failed', reason: '2.0.0 failed here' })],
      events: [{ hoursAgo: 1, type: 'upgrade', outcome: 'rollback-failed', app: 'shop', from: '1.9.0', to: '2.0.0', reason: 'docker: Cannot connect to the Docker daemon', blame: 'infrastructure' }],
    },
    {
      agentId: 'edge-up-1',
      hostname: 'edge-01',
      group: 'edge',
      apps: [edgeHello('1.1.0'), buildApp('shop', '1.9.0', { desired: '2.0.0', groupVersion: '2.0.0', decision: 'wait', waitingFor: 'failed', reason: '2.0.0 failed here' })],
      events: [{ hoursAgo: 1, type: 'upgrade', outcome: 'rolled-back', app: 'shop', from: '1.9.0', to: '2.0.0', reason: 'health: answered 500', blame: 'release' }],
    },
    { agentId: 'edge-pinned', hostname: 'edge-03', group: 'edge', apps: [edgeHello('1.0.0', { desired: '1.0.0', pinned: true, reason: 'pinned to 1.0.0 in the overlay' })] },
    {
      agentId: 'edge-window',
      hostname: 'edge-04',
      group: 'edge',
      apps: [edgeHello('1.0.0', { decision: 'wait', waitingFor: 'window', until: at(8 * 60 * MINUTE), reason: 'waiting for window sat 02:00 UTC' })],
    },
    { agentId: 'edge-stopped', hostname: 'edge-05', group: 'edge', apps: [edgeHello('1.1.0', { state: 'stopped', reason: 'stopped by duck stop' })] },
    { agentId: 'edge-held', hostname: 'edge-06', group: 'edge', held: true, apps: [edgeHello('1.0.0', { decision: 'wait', waitingFor: 'hold', reason: 'held by duck hold' })] },
    {
      agentId: 'edge-backoff',
      hostname: 'edge-07',
      group: 'edge',
      apps: [
        edgeHello('1.0.0', {
          decision: 'wait',
          waitingFor: 'backoff',
          reason: 'backing off after 3 failures',
          backoff: { cause: 'no-space', message: NO_SPACE, failures: 3, since: at(-30 * MINUTE), nextTryAt: at(20 * MINUTE) },
        }),
      ],
      events: [3, 2, 1].map((n) => ({ hoursAgo: n / 10, type: 'upgrade' as const, outcome: 'failed' as const, app: 'hello', from: '1.0.0', to: '1.1.0', reason: NO_SPACE, blame: 'infrastructure' as const })),
    },
    {
      agentId: 'edge-unreachable-1',
      hostname: 'edge-08',
      group: 'edge',
      apps: [edgeHello('1.1.0')],
      channel: unreachable(at, 180, 37, 'GET https://git.example/releases.git/info/refs: connect ECONNREFUSED 10.0.0.5:443'),
    },
    {
      agentId: 'edge-unreachable-2',
      hostname: 'edge-09',
      group: 'edge',
      apps: [edgeHello('1.1.0')],
      channel: unreachable(at, 20, 4, 'deadline of 60 s passed <img src=x id=injected-fetch>'),
    },
    { agentId: 'lab-pinned', hostname: 'lab-01', group: 'lab', apps: [buildApp('hello', '1.0.0', { groupVersion: '1.1.0', pinned: true, reason: 'pinned to 1.0.0 in the overlay' })] },
  ];
}

/** Enrolls and reports each agent in turn (the order decides which report crosses an alert). */
export async function seedInOrder(baseUrl: string, enrollToken: string, fleet: readonly SeedAgent[]): Promise<EnrolledAgent[]> {
  const agents: EnrolledAgent[] = [];
  for (const agent of fleet) {
    const enrolled = await enroll(baseUrl, enrollToken, agent);
    await sendReport(baseUrl, enrolled);
    agents.push(enrolled);
  }
  return agents;
}
