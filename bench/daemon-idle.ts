// The idle `duck run` (issue 13): what a poll costs when nothing changed, inside a real daemon
// following a group of 200 apps and an empty group, against `git ls-remote` of the same URL; and
// what the idle daemon holds in memory, against a bare node process, and how that grows with polls.
// The daemon is the built CLI (`duck run`), a child process; its CPU time and RSS are read from
// /proc/<pid>, its polls counted from the git server's log (one ref request each when nothing moved).
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentNode } from '../examples/harness/agent-node.js';
import { makeAgentNode } from '../examples/harness/agent-node.js';
import type { Daemon } from '../examples/harness/daemon.js';
import { startDaemon } from '../examples/harness/daemon.js';
import type { GitServer } from '../examples/harness/git-http-server.js';
import { startGitServer } from '../examples/harness/git-http-server.js';
import type { OpenpgpTestKey } from '../examples/harness/keys.js';
import { makeOpenpgpKey } from '../examples/harness/keys.js';
import { makeTempDir, removeTempDir, run } from '../examples/harness/tmp.js';
import { createChannel, isolatedGitEnv } from '../test/helpers/channel-builder.js';
import { writeChannelYaml, writeGroup, writeRelease } from '../test/helpers/channel-fixtures.js';
// Types only: index.ts runs the benchmarks when loaded, so a value import here would be a cycle.
import type { BenchReport, Comparison, Sample } from './index.js';

export interface DaemonIdleOptions {
  /** Apps in the large group. */
  apps?: number;
  /** Windows of CPU measurement at a 1 s interval, and their length. */
  windows?: number;
  windowSeconds?: number;
  /** The memory daemons poll at a short interval until they made this many polls, or for `memorySeconds`, whichever comes first. */
  memoryPolls?: number;
  memorySeconds?: number;
  /** Groups the memory daemons follow (default both). */
  memoryGroups?: readonly string[];
}

const FLEET = 'fleet';
const EMPTY = 'empty';
// Linux's USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s.
const TICK_MS = 10;
const MEMORY_INTERVAL = '100ms';
const SETTLE_MS = 5_000;
const BARE_NODE = "node -e 'setInterval(()=>{},1000)'";
const BARE_NODE_SCRIPT = 'setInterval(()=>{},1000)';
// What `duck run` imports (the command, and the wiring it opens the node with).
const RUN_MODULES = ['../dist/agent/src/cli/commands/run.js', '../dist/agent/src/node/wiring.js'].map((m) => fileURLToPath(new URL(m, import.meta.url)));
const MODULES_ONLY_SCRIPT = `${RUN_MODULES.map((m) => `await import(${JSON.stringify(m)});`).join(' ')} setInterval(()=>{},1000)`;
const FLOOR_SETTLE_MS = 15_000;
/** The floor row's script: the idle poll and the watchers of a daemon, and nothing else. */
function floorScript(fx: Fixture): string {
  const url = `${fx.url}/info/refs?service=git-upload-pack`;
  return [
    "import http from 'node:http'; import { watch } from 'node:fs';",
    `watch(${JSON.stringify(fx.root)}, () => {}); watch(${JSON.stringify(join(fx.root, 'srv'))}, () => {});`,
    'const agent = new http.Agent({ keepAlive: true });',
    'setInterval(() => {',
    `  http.get(${JSON.stringify(url)}, { agent }, (res) => {`,
    "    const chunks = []; res.on('data', (c) => chunks.push(c)); res.on('end', () => Buffer.concat(chunks).toString('latin1'));",
    "  }).on('error', () => {});",
    `}, ${parseInt(MEMORY_INTERVAL, 10)});`,
  ].join('\n');
}
const HEAP_PROBE = fileURLToPath(new URL('./heap-probe.mjs', import.meta.url));
const MIB = 2 ** 20;
const progress = (message: string): void => void process.stderr.write(`[daemon-idle] ${message}\n`);

interface Fixture {
  root: string;
  server: GitServer;
  url: string;
  key: OpenpgpTestKey;
  apps: number;
  nodes: AgentNode[];
}

interface PollFigures {
  cpu: Sample[];
  requestsPerPoll: number[];
  logLinesPerPoll: number[];
}

interface MemoryFigures {
  rssStart: number;
  rssEnd: number;
  polls: number;
  seconds: number;
  /** Least-squares slope of RSS over polls, per 10,000 polls (MiB). */
  growthPer10k: number;
  /** The same for V8's heap retained after a full collection (MiB per 10,000 polls), and its first and last values. */
  heapGrowthPer10k: number;
  heapStart: number;
  heapEnd: number;
  /** V8's compiled code and the scripts' source held for lazy compilation, at the end (MiB). */
  code: number;
  scriptSource: number;
  /** /proc/<pid>/smaps_rollup at the end: file-backed pages (node's binary and libraries, shared) and private anonymous ones. */
  rss: RssSplit;
}

interface RssSplit {
  fileBacked: number;
  anonymous: number;
}

export async function benchDaemonPoll(opts: DaemonIdleOptions = {}): Promise<BenchReport> {
  const fx = await channelFixture(opts);
  try {
    const rows: Comparison[] = [];
    const notes: string[] = [];
    const lsRemote = await gitLsRemote(fx, 7);
    for (const group of [FLEET, EMPTY]) {
      const poll = await pollFigures(fx, group, opts);
      rows.push(
        { label: `no-change poll, ${describe(fx, group)}: cpu vs wall`, duck: poll.cpu, git: lsRemote.wall, gitCommand: 'git ls-remote <url> refs/heads/main (wall)' },
        { label: `no-change poll, ${describe(fx, group)}: cpu vs cpu`, duck: poll.cpu, git: lsRemote.cpu, gitCommand: 'git ls-remote <url> refs/heads/main (user + system)' },
      );
      notes.push(`${describe(fx, group)}: ${median(poll.requestsPerPoll).toFixed(2)} requests per poll, ${median(poll.logLinesPerPoll).toFixed(2)} log lines per poll`);
    }
    notes.push(
      'the wall time of git ls-remote includes the loopback server spawning git http-backend for each of its requests: on a loaded machine it is the noisy one; the cpu row compares the clients alone',
      `duck: \`duck run\` at a 1 s interval, CPU time (utime + stime, /proc/<pid>/stat, 10 ms ticks) over ${opts.windows ?? 3} windows of ${opts.windowSeconds ?? 10} s, divided by the polls the git server saw`,
      'the figure holds everything the daemon did in the window (timers, watchers), not only the polls',
    );
    return { title: 'daemon-idle: no-change poll inside `duck run` against git ls-remote of the same URL (targets: 200 apps 1.0x, empty 0.5x and 1 request)', baseline: 'git ls-remote', rows, notes };
  } finally {
    await disposeFixture(fx);
  }
}

export async function benchDaemonMemory(opts: DaemonIdleOptions = {}): Promise<BenchReport> {
  const fx = await channelFixture(opts);
  try {
    const bare = await idleNodeRss(3, BARE_NODE_SCRIPT);
    const modules = await idleNodeRss(3, MODULES_ONLY_SCRIPT);
    const rows: Comparison[] = [{ label: "duck run's modules loaded, nothing run", duck: modules, git: bare, gitCommand: BARE_NODE }];
    const notes: string[] = [
      `modules loaded: node importing ${RUN_MODULES.map((m) => m.slice(m.indexOf('dist/'))).join(', ')} then idle: what loading the code costs before any cycle`,
    ];
    // What the least daemon would hold: the issue's 1.25x is about what this alone costs.
    const floor = await idleNodeRss(3, floorScript(fx), FLOOR_SETTLE_MS);
    rows.push({ label: 'floor: a script that only polls the ref advertisement and watches 2 directories', duck: floor, git: bare, gitCommand: BARE_NODE });
    notes.push(
      `floor: a node -e script (bench/daemon-idle.ts floorScript): GET info/refs of the same URL with node:http on a keep-alive agent every ${MEMORY_INTERVAL}, two fs.watch watchers, sampled after ${FLOOR_SETTLE_MS / 1000} s — nothing of Duck; what any Node daemon doing only the idle poll costs over a bare node`,
    );
    const bareSplit = await idleNodeSplit(BARE_NODE_SCRIPT);
    for (const group of opts.memoryGroups ?? [FLEET, EMPTY]) {
      const memory = await memoryFigures(fx, group, opts);
      rows.push({ label: `idle RSS after start, ${describe(fx, group)}`, duck: [{ ms: memory.rssStart }], git: bare, gitCommand: BARE_NODE });
      rows.push({ label: `RSS after ${memory.polls} polls at ${MEMORY_INTERVAL}, ${describe(fx, group)}`, duck: [{ ms: memory.rssEnd }], git: bare, gitCommand: BARE_NODE });
      notes.push(
        `${describe(fx, group)}: RSS ${memory.rssStart.toFixed(1)} -> ${memory.rssEnd.toFixed(1)} MiB over ${memory.polls} polls (${Math.round(memory.seconds)} s); slope ${memory.growthPer10k.toFixed(2)} MiB per 10,000 polls (target < 1)`,
        `${describe(fx, group)}: V8 heap retained after a full GC ${memory.heapStart.toFixed(1)} -> ${memory.heapEnd.toFixed(1)} MiB; slope ${memory.heapGrowthPer10k.toFixed(2)} MiB per 10,000 polls; of it compiled code ${memory.code.toFixed(1)} MiB, script source ${memory.scriptSource.toFixed(1)} MiB`,
        `${describe(fx, group)}: RSS at the end = ${memory.rss.fileBacked.toFixed(1)} MiB file-backed (node's binary and libraries, shared) + ${memory.rss.anonymous.toFixed(1)} MiB anonymous (V8 heap, malloc, stacks); bare node ${bareSplit.fileBacked.toFixed(1)} + ${bareSplit.anonymous.toFixed(1)} MiB`,
      );
    }
    notes.push(
      `RSS: VmRSS of /proc/<pid>/status; after start = ${SETTLE_MS / 1000} s after the first cycle; the slope is least squares of RSS sampled every 0.5 s against the polls counted so far, over the later two thirds of the run (noisy: GC decides when the heap shrinks)`,
    );
    return { title: 'daemon-memory: idle `duck run` RSS against a bare node process (target 1.25x, flat: < 1 MiB per 10,000 polls)', baseline: 'bare node', unit: 'MiB', rows, notes };
  } finally {
    await disposeFixture(fx);
  }
}

function describe(fx: Fixture, group: string): string {
  return group === FLEET ? `group of ${fx.apps} apps` : 'empty group';
}

async function channelFixture(opts: DaemonIdleOptions): Promise<Fixture> {
  {
    const apps = opts.apps ?? 200;
    const root = await makeTempDir('duck-bench-idle-');
    progress(`writing a channel with ${apps} apps`);
    const ch = await createChannel({ serverRoot: join(root, 'srv') });
    const key = await makeOpenpgpKey('release-bot');
    await writeChannelYaml(ch, { version: 1, signers: [key] });
    const group: Record<string, string> = {};
    for (let i = 0; i < apps; i++) {
      const app = `app-${String(i).padStart(3, '0')}`;
      await writeRelease(ch, app, '1.0.0');
      group[app] = '1.0.0';
    }
    await writeGroup(ch, FLEET, group);
    await writeGroup(ch, EMPTY, {});
    await ch.commit(`${apps} apps`, key);
    await ch.publish();
    await ch.dispose();
    const server = await startGitServer({ root: join(root, 'srv') });
    return { root, server, url: server.url('channel.git'), key, apps, nodes: [] };
  }
}

async function disposeFixture(fx: Fixture): Promise<void> {
  await fx.server.close();
  for (const node of fx.nodes) await removeTempDir(node.dir);
  await removeTempDir(fx.root);
}

/**
 * A node following `group`: nothing installed, the overlay asks for approval, so every app of the
 * group waits (no Docker needed) and every poll finds nothing to do — the idle fleet node.
 */
async function idleNode(fx: Fixture, group: string, interval: string): Promise<AgentNode> {
  const node = await makeAgentNode({ url: fx.url, rootKeys: [fx.key], group, interval });
  fx.nodes.push(node);
  await writeFile(node.overlayFile, 'approval: manual\n');
  return node;
}

async function started(node: AgentNode, env: NodeJS.ProcessEnv = {}): Promise<Daemon> {
  const daemon = startDaemon(node, env);
  await daemon.waitFor((e) => e.event === 'cycle', 'the first cycle', { timeoutMs: 300_000 });
  return daemon;
}

async function pollFigures(fx: Fixture, group: string, opts: DaemonIdleOptions): Promise<PollFigures> {
  const windows = opts.windows ?? 3;
  const seconds = opts.windowSeconds ?? 10;
  progress(`${describe(fx, group)}: duck run at 1s, ${windows} windows of ${seconds} s`);
  const node = await idleNode(fx, group, '1s');
  const daemon = await started(node);
  try {
    await sleep(3_000);
    const pid = daemon.child.pid!;
    const figures: PollFigures = { cpu: [], requestsPerPoll: [], logLinesPerPoll: [] };
    for (let i = 0; i < windows; i++) {
      const cpu0 = await cpuMs(pid);
      const lines0 = daemon.events.length;
      fx.server.resetLog();
      await sleep(seconds * 1000);
      const cpu1 = await cpuMs(pid);
      const requests = fx.server.requests.length;
      const polls = refRequests(fx.server);
      if (polls === 0) throw new Error(`${describe(fx, group)}: the daemon did not poll in ${seconds} s`);
      figures.cpu.push({ ms: (cpu1 - cpu0) / polls, requests: requests / polls, bytes: Math.round(fx.server.requests.reduce((n, r) => n + r.bytesOut, 0) / polls) });
      figures.requestsPerPoll.push(requests / polls);
      figures.logLinesPerPoll.push((daemon.events.length - lines0) / polls);
    }
    const failed = daemon.events.find((e) => e.event === 'cycle-failed' || e.event === 'channel-refused');
    if (failed) throw new Error(`benchmark precondition: the daemon's cycles failed: ${JSON.stringify(failed)}`);
    return figures;
  } finally {
    await daemon.stop();
  }
}

async function memoryFigures(fx: Fixture, group: string, opts: DaemonIdleOptions): Promise<MemoryFigures> {
  const seconds = opts.memorySeconds ?? 120;
  const maxPolls = opts.memoryPolls ?? Infinity;
  progress(`${describe(fx, group)}: duck run at ${MEMORY_INTERVAL} for ${seconds} s${Number.isFinite(maxPolls) ? ` or ${maxPolls} polls` : ''}, RSS sampled`);
  const node = await idleNode(fx, group, MEMORY_INTERVAL);
  const probeOut = join(node.dir, 'heap-probe.jsonl');
  const daemon = await started(node, { HEAP_PROBE_OUT: probeOut, NODE_OPTIONS: `--expose-gc --import=${HEAP_PROBE}` });
  try {
    const pid = daemon.child.pid!;
    // Past start-up's allocations: the first polls settle the caches a poll keeps.
    await sleep(SETTLE_MS);
    fx.server.resetLog();
    const startedAt = performance.now();
    const probeFrom = Date.now();
    const points: Array<{ polls: number; rss: number }> = [];
    const end = startedAt + seconds * 1000;
    while (performance.now() < end && (points.at(-1)?.polls ?? 0) < maxPolls) {
      points.push({ polls: refRequests(fx.server), rss: await rssMiB(pid) });
      await sleep(500);
    }
    const last = points[points.length - 1]!;
    const rss = await rssSplit(pid);
    // The slope over the later two thirds: the first samples hold the heap still growing to its working size.
    const settled = points.slice(Math.floor(points.length / 3));
    const heap = await heapPoints(probeOut, probeFrom, points);
    const heapSettled = heap.slice(Math.floor(heap.length / 3));
    const lastHeap = heap.at(-1);
    return {
      rssStart: points[0]!.rss,
      rssEnd: last.rss,
      polls: last.polls,
      seconds: (performance.now() - startedAt) / 1000,
      growthPer10k: slope(settled) * 10_000,
      heapGrowthPer10k: slope(heapSettled) * 10_000,
      heapStart: heap[0]?.rss ?? NaN,
      heapEnd: lastHeap?.rss ?? NaN,
      code: lastHeap?.code ?? NaN,
      scriptSource: lastHeap?.scriptSource ?? NaN,
      rss,
    };
  } finally {
    await daemon.stop();
  }
}

interface ProbeLine {
  at: number;
  heapUsed: number;
  code: number;
  scriptSource: number;
}

/** The probe's retained-heap samples as (polls, MiB) points: polls interpolated from the RSS samples' clock. */
async function heapPoints(file: string, from: number, rssPoints: ReadonlyArray<{ polls: number }>): Promise<Array<{ polls: number; rss: number; code: number; scriptSource: number }>> {
  const lines = (await readFile(file, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  const samples = lines.map((l) => JSON.parse(l) as ProbeLine).filter((p) => p.at >= from);
  const total = rssPoints.at(-1)?.polls ?? 0;
  const span = Math.max(1, (samples.at(-1)?.at ?? from) - from);
  // Polls run at a steady interval, so a sample's share of the run's time is its share of the polls.
  return samples.map((p) => ({ polls: ((p.at - from) / span) * total, rss: p.heapUsed / MIB, code: p.code / MIB, scriptSource: p.scriptSource / MIB }));
}

async function rssSplit(pid: number): Promise<RssSplit> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
  const rss = kb('Rss');
  const anonymous = kb('Anonymous');
  return { fileBacked: (rss - anonymous) / 1024, anonymous: anonymous / 1024 };
}

/** A bare node's RSS split, the same way. */
async function idleNodeSplit(script: string): Promise<RssSplit> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
  try {
    await sleep(SETTLE_MS);
    return await rssSplit(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

function refRequests(server: GitServer): number {
  return server.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/info/refs')).length;
}

function slope(points: ReadonlyArray<{ polls: number; rss: number }>): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.polls, 0) / n;
  const my = points.reduce((s, p) => s + p.rss, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.polls - mx) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.polls - mx) * (p.rss - my), 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) / 1024;
}

export async function idleNodeRss(runs: number, script: string, settleMs = 3_000): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    try {
      await sleep(settleMs);
      samples.push({ ms: await rssMiB(child.pid!) });
    } finally {
      child.kill();
    }
  }
  return samples;
}

async function gitLsRemote(fx: Fixture, runs: number): Promise<{ wall: Sample[]; cpu: Sample[] }> {
  const wall: Sample[] = [];
  const cpu: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    fx.server.resetLog();
    const start = performance.now();
    const { stderr } = await run('/usr/bin/time', ['-f', '@@time %U %S', 'git', 'ls-remote', fx.url, 'refs/heads/main'], { env: isolatedGitEnv() });
    const ms = performance.now() - start;
    const [user, system] = (/@@time (\S+) (\S+)/.exec(stderr)?.slice(1) ?? ['0', '0']).map(Number) as [number, number];
    const transfer = { requests: fx.server.requests.length, bytes: fx.server.requests.reduce((n, r) => n + r.bytesOut, 0) };
    wall.push({ ms, ...transfer });
    cpu.push({ ms: (user + system) * 1000, ...transfer });
  }
  return { wall, cpu };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
