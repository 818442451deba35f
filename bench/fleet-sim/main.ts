// `npm run fleet-sim`: a simulated fleet against real `duck-controller serve` processes over HTTP on
// loopback, then the same load against a bare Koa app (the baseline) in the same run. Prints the
// figures side by side as ratios and writes a CSV of per-second rows for plotting. Not part of
// `npm test`: its figures depend on the machine, and it runs as long as --duration says, twice.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { DEFAULT_AGENT_PAGE } from '../../controller/src/agent-query.js';
import { enrollAll, runSchedule, send, target, type Target } from './drive.js';
import { makeAgent, type SimAgent } from '../../test/helpers/fleet-model.js';
import { parseSimOptions, USAGE, type SimOptions } from './options.js';
import { peakRssMiB, rssMiB, startBareKoa, startControllerProcess, type Server } from './processes.js';
import { CSV_HEADER, csvRows, figures, percentile, perSecond, type Outcome, type RunFigures } from './stats.js';

const ENROLL_CONCURRENCY = 64;
const GET_RUNS = 5;
const GETS = [
  { path: `/api/v1/agents?limit=${DEFAULT_AGENT_PAGE}`, key: '/api/v1/agents', label: `GET /api/v1/agents, first page (${DEFAULT_AGENT_PAGE})` },
  { path: '/api/v1/fleet', key: '/api/v1/fleet', label: 'GET /api/v1/fleet (the summary)' },
] as const;

const progress = (message: string): void => void process.stderr.write(`[fleet-sim] ${message}\n`);

interface Measured {
  figures: RunFigures;
  csv: string[];
  /** The highest VmHWM of one server, MiB. */
  peakRssMiB: number;
  firstError: string | null;
  /** Report turns in the schedule, and those still unsent when the duration ended. */
  turns: number;
  missed: number;
  /** Median ms and bytes of each GET, by key. */
  gets: Map<string, { ms: number; firstMs: number; bytes: number; body: string }>;
}

async function timeGets(to: Target, token: string): Promise<Measured['gets']> {
  const out: Measured['gets'] = new Map();
  for (const get of GETS) {
    // The first is apart: with --summary-max-age it is the one that computes the summary.
    const firstStarted = performance.now();
    await send(to, 'GET', get.path, token);
    const firstMs = performance.now() - firstStarted;
    const times: number[] = [];
    let last = { status: 0, body: '' };
    for (let i = 0; i < GET_RUNS; i++) {
      const started = performance.now();
      last = await send(to, 'GET', get.path, token);
      times.push(performance.now() - started);
    }
    if (last.status !== 200) throw new Error(`GET ${get.path} answered ${last.status}: ${last.body.slice(0, 300)}`);
    out.set(get.key, { ms: percentile(times, 50), firstMs, bytes: Buffer.byteLength(last.body), body: last.body });
  }
  return out;
}

/** One load run against `servers`: the schedule, each second's resident memory, the peaks. */
async function measure(name: string, servers: readonly Server[], opts: SimOptions, tokenOf: (a: SimAgent) => string, agents: readonly SimAgent[], adminToken: string): Promise<Measured> {
  const targets = servers.map((s) => target(s.url, opts.concurrency));
  const targetOf = (a: SimAgent): Target => targets[a.index % targets.length]!;
  const rss = new Map<number, number>();
  let startedAt = 0;
  const sampler = setInterval(() => {
    const second = Math.floor((performance.now() - startedAt) / 1000);
    void Promise.all(servers.map((s) => rssMiB(s.pid))).then((each) => rss.set(second, Math.max(rss.get(second) ?? 0, each.reduce((a, b) => a + b, 0))));
  }, 1000);
  let outcomes: Outcome[];
  let firstError: string | null;
  let turns: number;
  let missed: number;
  try {
    progress(`${name}: ${agents.length} agents reporting every ${opts.intervalMs / 1000} s for ${opts.durationMs / 1000} s`);
    ({ outcomes, firstError, turns, missed } = await runSchedule({ agents, intervalMs: opts.intervalMs, durationMs: opts.durationMs, concurrency: opts.concurrency, targetOf, tokenOf, onStart: (t) => (startedAt = t) }));
  } finally {
    clearInterval(sampler);
  }
  const gets = await timeGets(targets[0]!, adminToken);
  const peaks = await Promise.all(servers.map((s) => peakRssMiB(s.pid)));
  for (const t of targets) t.http.destroy();
  return { figures: figures(outcomes, opts.durationMs), csv: csvRows(name, perSecond(outcomes, rss)), peakRssMiB: Math.max(...peaks), firstError, turns, missed, gets };
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function storeBytes(opts: SimOptions, dataDirs: readonly string[]): Promise<{ bytes: number; what: string }> {
  if (opts.storeUrl === null) return { bytes: (await Promise.all(dataDirs.map(treeBytes))).reduce((a, b) => a + b, 0), what: 'the data directory' };
  const client = new pg.Client({ connectionString: opts.storeUrl });
  await client.connect();
  try {
    const result = await client.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
    return { bytes: Number(result.rows[0]!.bytes), what: 'pg_database_size' };
  } finally {
    await client.end();
  }
}

const mib = (n: number): string => `${n.toFixed(1)} MiB`;
const size = (bytes: number): string => (bytes >= 1024 * 1024 ? mib(bytes / 1024 / 1024) : `${(bytes / 1024).toFixed(1)} KiB`);
const ms = (n: number): string => (n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n.toFixed(1)} ms`);
const ratio = (duck: number, base: number): string => (base > 0 ? `${(duck / base).toFixed(2)}×` : '-');

function table(rows: [string, string, string, string][]): string {
  const all: [string, string, string, string][] = [['', 'duck', 'bare koa', 'duck ÷ bare'], ...rows];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...all.map((r) => r[c]!.length)));
  return all.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

async function main(): Promise<void> {
  let opts: SimOptions;
  try {
    opts = parseSimOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`fleet-sim: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const work = opts.keep ?? (await mkdtemp(join(tmpdir(), 'duck-fleet-sim-')));
  await mkdir(work, { recursive: true });
  const runId = randomBytes(3).toString('hex');
  const fleet = (): SimAgent[] => Array.from({ length: opts.agents }, (_, i) => makeAgent(i, `sim-${runId}`));
  const enrollToken = `enroll-${runId}`;
  const adminToken = `admin-${randomBytes(12).toString('hex')}`;
  const dataDirs = Array.from({ length: opts.instances }, (_, k) => join(work, `controller-${k}`));
  const servers: Server[] = [];
  const stopAll = async (): Promise<void> => void (await Promise.all(servers.splice(0).map((s) => s.stop())));
  try {
    progress(`starting ${opts.instances} controller(s) on ${opts.storeUrl === null ? `the embedded store in ${work}` : opts.storeUrl.replace(/:[^:@/]*@/, ':***@')}`);
    for (const [k, dataDir] of dataDirs.entries()) servers.push(await startControllerProcess({ dataDir, storeUrl: opts.storeUrl ?? undefined, enrollToken, adminToken, summaryMaxAge: opts.summaryMaxAge ?? undefined }, `controller ${k}`));
    const agents = fleet();
    const enrollTargets = servers.map((s) => target(s.url, ENROLL_CONCURRENCY));
    progress(`enrolling ${opts.agents} agents with the fleet token`);
    const enrollStarted = performance.now();
    const { tokens, failures } = await enrollAll(agents, (a) => enrollTargets[a.index % enrollTargets.length]!, enrollToken, ENROLL_CONCURRENCY);
    const enrollMs = performance.now() - enrollStarted;
    for (const t of enrollTargets) t.http.destroy();
    if (failures.length > 0) throw new Error(`${failures.length} enrollments failed, the first: ${failures[0]}`);
    const duck = await measure('duck', servers, opts, (a) => tokens[a.index]!, agents, adminToken);
    const store = await storeBytes(opts, dataDirs);
    const stderrTails = servers.map((s) => s.tail());
    await stopAll();

    const bodiesFile = join(work, 'bare-bodies.json');
    await writeFile(bodiesFile, `{${[...duck.gets].map(([key, get]) => `${JSON.stringify(key)}:${get.body}`).join(',')}}`);
    for (let k = 0; k < opts.instances; k++) servers.push(await startBareKoa(bodiesFile, `bare koa ${k}`));
    const bare = await measure('bare-koa', servers, opts, (a) => `token-${a.index}`, fleet(), adminToken);
    await stopAll();

    const d = duck.figures;
    const b = bare.figures;
    const offered = opts.agents / (opts.intervalMs / 1000);
    const rows: [string, string, string, string][] = [
      [`reports/s (offered ${offered.toFixed(1)}/s)`, d.reportsPerSecond.toFixed(1), b.reportsPerSecond.toFixed(1), ratio(d.reportsPerSecond, b.reportsPerSecond)],
      ['p50 latency', ms(d.p50Ms), ms(b.p50Ms), ratio(d.p50Ms, b.p50Ms)],
      ['p99 latency', ms(d.p99Ms), ms(b.p99Ms), ratio(d.p99Ms, b.p99Ms)],
      ['errors', String(d.errors), String(b.errors), '-'],
      ['send lag p99 (after the agent\'s turn)', ms(d.p99LagMs), ms(b.p99LagMs), '-'],
      ['p99 from the agent\'s turn (lag + latency)', ms(d.p99FromTurnMs), ms(b.p99FromTurnMs), ratio(d.p99FromTurnMs, b.p99FromTurnMs)],
      [`turns not sent by the end (of ${duck.turns})`, String(duck.missed), String(bare.missed), '-'],
      [`peak RSS (highest of ${opts.instances})`, mib(duck.peakRssMiB), mib(bare.peakRssMiB), ratio(duck.peakRssMiB, bare.peakRssMiB)],
      [`store size (${store.what})`, size(store.bytes), '-', '-'],
      ...GETS.map((get): [string, string, string, string] => {
        const dg = duck.gets.get(get.key)!;
        const bg = bare.gets.get(get.key)!;
        return [`${get.label}, ${size(dg.bytes)}`, ms(dg.ms), ms(bg.ms), ratio(dg.ms, bg.ms)];
      }),
      // The summary's cost when it is computed: every request without --summary-max-age, the first one with it.
      ((): [string, string, string, string] => {
        const dg = duck.gets.get('/api/v1/fleet')!;
        const bg = bare.gets.get('/api/v1/fleet')!;
        return ['GET /api/v1/fleet, the first request (computes the summary)', ms(dg.firstMs), ms(bg.firstMs), ratio(dg.firstMs, bg.firstMs)];
      })(),
    ];
    process.stdout.write(
      `fleet-sim: ${opts.agents} agents, a report every ${opts.intervalMs / 1000} s each, ${opts.durationMs / 1000} s per side, ` +
        `${opts.storeUrl === null ? 'embedded store' : 'PostgreSQL'}, ${opts.instances} instance(s), at most ${opts.concurrency} in flight per server, ` +
        `summary max age ${opts.summaryMaxAge ?? '0 (computed per request)'}\n` +
        `${table(rows)}\n` +
        `enrollment: ${opts.agents} agents in ${ms(enrollMs)} (${((opts.agents / enrollMs) * 1000).toFixed(0)}/s)\n` +
        `the bare koa side answers 204 without reading the body, and its GETs serialize the controller's own answers\n`,
    );
    if (duck.firstError) process.stdout.write(`first controller error: ${duck.firstError}\n`);
    if (duck.firstError && !/^\S+: 0 /.test(duck.firstError)) process.stdout.write(`the controllers' last log lines:\n${stderrTails.join('\n').slice(-2000)}\n`);
    if (bare.firstError) process.stdout.write(`first bare koa error: ${bare.firstError}\n`);
    if (opts.csv) {
      await writeFile(opts.csv, [CSV_HEADER, ...duck.csv, ...bare.csv].join('\n') + '\n');
      progress(`per-second rows in ${opts.csv}`);
    }
  } finally {
    await stopAll();
    if (opts.keep === null) await rm(work, { recursive: true, force: true });
  }
}

await main();
