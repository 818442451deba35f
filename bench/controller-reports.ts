// The controller under load: 10,000 enrolled agents, a fixed number of reports at a fixed
// concurrency over keep-alive HTTP on loopback (each report carries one new change event and is
// answered only once durable), beside a bare Koa app whose handler returns 204, hit by the same
// load generator in the same run. Then GET /api/v1/fleet with 10,000 and 100,000 agents seeded
// through the store, beside a bare Koa GET.
import { request, Agent as HttpAgent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import Koa from 'koa';
import { summarizeFleet } from '../controller/src/fleet-summary.js';
import { startController, type RunningController } from '../controller/src/server.js';
import { EmbeddedFleetStore } from '../controller/src/store/embedded-fleet-store.js';
import { hashToken } from '../controller/src/tokens.js';
import type { ReportMessage } from '../schemas/index.js';
import { buildApp, buildChange, buildFacts, buildReport } from '../test/helpers/controller.js';
import { makeTempDir, removeTempDir } from '../examples/harness/tmp.js';
// Types only: index.ts runs the benchmarks when loaded, so a value import here would be a cycle.
import type { BenchReport, Comparison, Sample } from './index.js';

export interface ControllerBenchOptions {
  agents?: number;
  reports?: number;
  concurrency?: number;
  bigFleet?: number;
  summaryRuns?: number;
}

const progress = (message: string): void => void process.stderr.write(`[controller-reports] ${message}\n`);
const SEED_BATCH = 5000;

interface LoadResult {
  ms: number;
  latencies: number[];
  statuses: Map<number, number>;
}

/** `total` POSTs at `concurrency` in flight over keep-alive sockets; body(i) makes request i's body. */
async function load(url: string, path: string, total: number, concurrency: number, headers: (i: number) => Record<string, string>, body: (i: number) => string): Promise<LoadResult> {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(path, url);
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const one = (i: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const payload = body(i);
      const started = performance.now();
      const req = request(target, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers(i) } }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - started);
          statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
          resolve();
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  const worker = async (): Promise<void> => {
    while (next < total) await one(next++);
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - started;
  agent.destroy();
  return { ms, latencies, statuses };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function startBareKoa(): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Koa();
  app.use((ctx) => {
    ctx.status = 204;
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

async function timedGet(url: string, headers: Record<string, string>, runs: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const res = await fetch(url, { headers });
    const bytes = (await res.arrayBuffer()).byteLength;
    if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
    samples.push({ ms: performance.now() - started, bytes });
  }
  return samples;
}

function agentId(i: number): string {
  return `bench-agent-${String(i).padStart(6, '0')}`;
}

function reportFor(i: number, round: number): ReportMessage {
  const group = `group-${i % 20}`;
  const shop = `1.${round % 5}.0`;
  return buildReport(agentId(i), {
    group,
    apps: [buildApp('shop', shop, { desired: '1.4.0', decision: shop === '1.4.0' ? 'none' : 'wait', reason: 'window' }), buildApp('blog', '2.0.0')],
    events: [buildChange('shop', '1.0.0', shop, round % 17 === 0 ? 'rolled-back' : 'applied')],
  });
}

/** Enrolls `count` agents through the store (batched, so the group commit writes once per batch); each with one report. */
async function seed(store: EmbeddedFleetStore, count: number, withReports: boolean): Promise<string[]> {
  const tokens: string[] = [];
  for (let start = 0; start < count; start += SEED_BATCH) {
    const end = Math.min(count, start + SEED_BATCH);
    const batch: Promise<unknown>[] = [];
    for (let i = start; i < end; i++) {
      const token = `bench-token-${i}`;
      tokens.push(token);
      batch.push(store.register(agentId(i), buildFacts({ hostname: `host-${i}`, group: `group-${i % 20}` }), hashToken(token), new Date()));
    }
    await Promise.all(batch);
    if (withReports) await Promise.all(Array.from({ length: end - start }, (_, k) => store.recordReport(reportFor(start + k, start + k), new Date())));
  }
  return tokens;
}

export async function benchControllerReports(opts: ControllerBenchOptions = {}): Promise<BenchReport> {
  const agents = opts.agents ?? 10_000;
  const reports = opts.reports ?? 20_000;
  const concurrency = opts.concurrency ?? 64;
  const bigFleet = opts.bigFleet ?? 100_000;
  const summaryRuns = opts.summaryRuns ?? 5;
  const rows: Comparison[] = [];
  const notes: string[] = [];
  const dirs: string[] = [];
  let controller: RunningController | undefined;
  const bare = await startBareKoa();
  try {
    const dir = await makeTempDir('duck-bench-controller-');
    dirs.push(dir);
    progress(`seeding ${agents} agents through the store in ${dir}`);
    const store = await EmbeddedFleetStore.open(dir);
    const tokens = await seed(store, agents, true);
    controller = await startController({ dataDir: dir, store, enrollToken: 'bench-enroll', adminToken: 'bench-admin', port: 0 });

    const bodies = (i: number): string => JSON.stringify(reportFor(i % agents, 1000 + i));
    const auth = (i: number): Record<string, string> => ({ authorization: `Bearer ${tokens[i % agents]}` });
    progress(`warm-up, then ${reports} reports at concurrency ${concurrency} to the controller`);
    await load(controller.url, '/api/v1/reports', 500, concurrency, auth, (i) => JSON.stringify(reportFor(i % agents, 500_000 + i)));
    const duck = await load(controller.url, '/api/v1/reports', reports, concurrency, auth, bodies);
    progress(`the same load against a bare Koa 204 handler`);
    await load(bare.url, '/', 500, concurrency, auth, bodies);
    const base = await load(bare.url, '/', reports, concurrency, auth, bodies);
    const ok = duck.statuses.get(200) ?? 0;
    if (ok !== reports) throw new Error(`the controller answered ${ok}/${reports} reports with 200: ${JSON.stringify([...duck.statuses])}`);

    const perReport = (r: LoadResult): Sample[] => [{ ms: r.ms / reports }];
    rows.push({ label: `time per report at ${concurrency} in flight (1/throughput)`, duck: perReport(duck), git: perReport(base), gitCommand: 'a bare Koa app answering 204, same load generator, same bodies' });
    rows.push({ label: 'p99 latency', duck: [{ ms: percentile(duck.latencies, 99) }], git: [{ ms: percentile(base.latencies, 99) }], gitCommand: 'the same bare Koa 204 run' });
    rows.push({ label: 'p50 latency', duck: [{ ms: percentile(duck.latencies, 50) }], git: [{ ms: percentile(base.latencies, 50) }], gitCommand: 'the same bare Koa 204 run' });
    notes.push(
      'every batch of reports is one rewrite of the whole data file (lowdb): throughput is about in-flight reports / write time, so it grows with load; past that, PostgreSQL (store/fleet-store.ts)',
    );
    notes.push(
      `reports/s: duck ${((reports / duck.ms) * 1000).toFixed(0)}, bare Koa ${((reports / base.ms) * 1000).toFixed(0)} (${reports} reports, ${agents} enrolled agents, each report one new event, answered once durable)`,
    );

    const adminHeaders = { authorization: 'Bearer bench-admin' };
    progress(`GET /api/v1/fleet at ${agents} agents`);
    await timedGet(`${controller.url}/api/v1/fleet`, adminHeaders, 1);
    rows.push({
      label: `GET /api/v1/fleet, ${agents.toLocaleString('en')} agents`,
      duck: await timedGet(`${controller.url}/api/v1/fleet`, adminHeaders, summaryRuns),
      git: await timedGet(bare.url, {}, summaryRuns),
      gitCommand: 'GET on the bare Koa 204 app',
    });
    await controller.close();
    controller = undefined;

    const bigDir = await makeTempDir('duck-bench-controller-big-');
    dirs.push(bigDir);
    progress(`seeding ${bigFleet} agents through the store in ${bigDir}`);
    const bigStore = await EmbeddedFleetStore.open(bigDir);
    await seed(bigStore, bigFleet, true);
    controller = await startController({ dataDir: bigDir, store: bigStore, enrollToken: 'bench-enroll', adminToken: 'bench-admin', port: 0 });
    progress(`GET /api/v1/fleet at ${bigFleet} agents`);
    await timedGet(`${controller.url}/api/v1/fleet`, adminHeaders, 1);
    rows.push({
      label: `GET /api/v1/fleet, ${bigFleet.toLocaleString('en')} agents`,
      duck: await timedGet(`${controller.url}/api/v1/fleet`, adminHeaders, summaryRuns),
      git: await timedGet(bare.url, {}, summaryRuns),
      gitCommand: 'GET on the bare Koa 204 app',
    });
    const computeStarted = performance.now();
    const listed = await bigStore.listAgents();
    const summary = summarizeFleet({ agents: listed, outcomes: await bigStore.outcomes(), recentFailures: [], alerts: [], now: new Date(), offlineAfterMs: 15 * 60_000 });
    notes.push(`summarizeFleet() alone at ${summary.agents.total.toLocaleString('en')} agents: ${(performance.now() - computeStarted).toFixed(1)} ms (the rest of the GET is JSON and HTTP)`);
    return { title: 'controller: reports under load and the fleet summary, beside a bare Koa handler returning 204', baseline: 'bare koa', rows, notes };
  } finally {
    await controller?.close();
    await bare.close();
    for (const dir of dirs) await removeTempDir(dir);
  }
}
