// The controller under load: 10,000 and then 50,000 enrolled agents, a fixed number of reports at
// a fixed concurrency over keep-alive HTTP on loopback (each report carries one new change event
// and is answered only once durable), each beside a bare Koa app whose handler returns 204, hit by
// the same load generator right after. Then GET /api/v1/fleet with 10,000 and 100,000 agents
// seeded through the store, beside a bare Koa GET.
import { readdir, stat } from 'node:fs/promises';
import { request, Agent as HttpAgent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
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
  /** Fleet sizes the report load runs at, each in its own data directory. */
  agents?: number[];
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

/** The data directory's files and their sizes, e.g. "fleet.json 4.1 MB, events-1.log 30.2 MB". */
async function dataFiles(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json') || n.endsWith('.log')).sort();
  const sizes = await Promise.all(names.map(async (n) => `${n} ${((await stat(join(dir, n))).size / 1e6).toFixed(1)} MB`));
  return sizes.join(', ');
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

interface ReportRun {
  rows: Comparison[];
  notes: string[];
  /** The controller, still running on the fleet, for the GET that follows. */
  controller: RunningController;
}

/** Seeds `agents` into a fresh directory, then the report load against the controller and the same load against bare Koa. */
async function reportLoad(agents: number, reports: number, concurrency: number, bare: { url: string }, dirs: string[]): Promise<ReportRun> {
  const dir = await makeTempDir('duck-bench-controller-');
  dirs.push(dir);
  progress(`seeding ${agents} agents through the store in ${dir}`);
  const store = await EmbeddedFleetStore.open(dir);
  const tokens = await seed(store, agents, true);
  const controller = await startController({ dataDir: dir, store, enrollToken: 'bench-enroll', adminToken: 'bench-admin', port: 0 });
  const bodies = (i: number): string => JSON.stringify(reportFor(i % agents, 1000 + i));
  const auth = (i: number): Record<string, string> => ({ authorization: `Bearer ${tokens[i % agents]}` });
  progress(`warm-up, then ${reports} reports at concurrency ${concurrency} to the controller (${agents} agents)`);
  await load(controller.url, '/api/v1/reports', 500, concurrency, auth, (i) => JSON.stringify(reportFor(i % agents, 500_000 + i)));
  const duck = await load(controller.url, '/api/v1/reports', reports, concurrency, auth, bodies);
  const rss = process.memoryUsage().rss;
  progress(`the same load against a bare Koa 204 handler`);
  await load(bare.url, '/', 500, concurrency, auth, bodies);
  const base = await load(bare.url, '/', reports, concurrency, auth, bodies);
  const ok = duck.statuses.get(200) ?? 0;
  if (ok !== reports) throw new Error(`the controller answered ${ok}/${reports} reports with 200: ${JSON.stringify([...duck.statuses])}`);
  const files = await dataFiles(dir);
  // A compaction runs beside the appends; its longest event-loop stall is what a report can wait.
  const stalls = monitorEventLoopDelay({ resolution: 5 });
  stalls.enable();
  const compactStarted = performance.now();
  await store.compact();
  const compactMs = performance.now() - compactStarted;
  stalls.disable();
  const fleet = `${agents.toLocaleString('en')} agents`;
  const perReport = (r: LoadResult): Sample[] => [{ ms: r.ms / reports }];
  const rows: Comparison[] = [
    { label: `time per report at ${concurrency} in flight (1/throughput), ${fleet}`, duck: perReport(duck), git: perReport(base), gitCommand: 'a bare Koa app answering 204, same load generator, same bodies' },
    { label: `p99 latency, ${fleet}`, duck: [{ ms: percentile(duck.latencies, 99) }], git: [{ ms: percentile(base.latencies, 99) }], gitCommand: 'the same bare Koa 204 run' },
    { label: `p50 latency, ${fleet}`, duck: [{ ms: percentile(duck.latencies, 50) }], git: [{ ms: percentile(base.latencies, 50) }], gitCommand: 'the same bare Koa 204 run' },
  ];
  const notes = [
    `${fleet}: reports/s duck ${((reports / duck.ms) * 1000).toFixed(0)}, bare Koa ${((reports / base.ms) * 1000).toFixed(0)} (${reports} reports, each one new event, answered once durable); ` +
      `data: ${files}; bench process RSS after the load ${mib(rss)} (controller, store and load generator in one process)`,
    `${fleet}: a compaction then took ${compactMs.toFixed(0)} ms, its longest event-loop stall ${(stalls.max / 1e6).toFixed(0)} ms; data after it: ${await dataFiles(dir)}`,
  ];
  return { rows, notes, controller };
}

export async function benchControllerReports(opts: ControllerBenchOptions = {}): Promise<BenchReport> {
  const fleets = opts.agents ?? [10_000, 50_000];
  const reports = opts.reports ?? 20_000;
  const concurrency = opts.concurrency ?? 64;
  const bigFleet = opts.bigFleet ?? 100_000;
  const summaryRuns = opts.summaryRuns ?? 5;
  const rows: Comparison[] = [];
  const notes: string[] = [
    'each batch of reports is one append of a line per report and one fsync (the embedded store\'s log); fleet.json is rewritten only by compaction, beside the appends',
  ];
  const dirs: string[] = [];
  let controller: RunningController | undefined;
  const bare = await startBareKoa();
  try {
    const adminHeaders = { authorization: 'Bearer bench-admin' };
    for (const agents of fleets) {
      const run = await reportLoad(agents, reports, concurrency, bare, dirs);
      controller = run.controller;
      rows.push(...run.rows);
      notes.push(...run.notes);
      if (agents === fleets[0]) {
        progress(`GET /api/v1/fleet at ${agents} agents`);
        await timedGet(`${controller.url}/api/v1/fleet`, adminHeaders, 1);
        rows.push({
          label: `GET /api/v1/fleet, ${agents.toLocaleString('en')} agents`,
          duck: await timedGet(`${controller.url}/api/v1/fleet`, adminHeaders, summaryRuns),
          git: await timedGet(bare.url, {}, summaryRuns),
          gitCommand: 'GET on the bare Koa 204 app',
        });
      }
      await controller.close();
      controller = undefined;
    }

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
    await controller.close();
    controller = undefined;
    const reopenStarted = performance.now();
    const reopened = await EmbeddedFleetStore.open(bigDir);
    notes.push(`${bigFleet.toLocaleString('en')} agents: the store opens (reads fleet.json, replays the log) in ${(performance.now() - reopenStarted).toFixed(0)} ms; data: ${await dataFiles(bigDir)}`);
    await reopened.close();
    return { title: 'controller: reports under load and the fleet summary, beside a bare Koa handler returning 204', baseline: 'bare koa', rows, notes };
  } finally {
    await controller?.close();
    await bare.close();
    for (const dir of dirs) await removeTempDir(dir);
  }
}
