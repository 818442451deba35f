// Channel fetch and verify (DESIGN §3) against native git doing the same fetch, over the same
// smart-HTTP server in the same run: a poll with nothing new, one new commit, and a first accept.
// Native git verifies no signature and reads no YAML, so the ratio is what trust costs on top
// of transport.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { NodeParts } from '../agent/src/node/wiring.js';
import { checkChannel } from '../agent/src/node/cycle.js';
import { wireNode } from '../agent/src/node/wiring.js';
import type { AgentNode } from '../examples/harness/agent-node.js';
import { makeAgentNode } from '../examples/harness/agent-node.js';
import { isolatedGitEnv } from '../test/helpers/channel-builder.js';
import type { GitServer } from '../examples/harness/git-http-server.js';
import { startGitServer } from '../examples/harness/git-http-server.js';
import { makeTempDir, removeTempDir, run } from '../examples/harness/tmp.js';
import type { ChannelShape, GeneratedChannel } from './generate-channel.js';
import { DEFAULT_SHAPE, generateChannel, selfCheck } from './generate-channel.js';
// Types only: index.ts runs the benchmarks when loaded, so a value import here would be a cycle.
import type { BenchReport, Comparison, Sample } from './index.js';

export interface ChannelFetchOptions {
  shape?: ChannelShape;
  /** Runs per scenario; the table shows medians. */
  runs?: { poll: number; incremental: number; full: number };
  group?: string;
  /** Check the generated channel with native git (fsck, verify-commit) before measuring. */
  check?: boolean;
}

const DEFAULT_RUNS = { poll: 5, incremental: 5, full: 3 };

interface Fixture {
  dir: string;
  server: GitServer;
  url: string;
  channel: GeneratedChannel;
  group: string;
  nodes: AgentNode[];
}

const progress = (message: string): void => void process.stderr.write(`[channel-fetch] ${message}\n`);

export async function benchChannelFetch(opts: ChannelFetchOptions = {}): Promise<BenchReport> {
  const shape = opts.shape ?? DEFAULT_SHAPE;
  const runs = opts.runs ?? DEFAULT_RUNS;
  const dir = await makeTempDir('duck-bench-');
  const nodes: AgentNode[] = [];
  let server: GitServer | null = null;
  try {
    progress(`generating ${shape.commits} signed commits, ${shape.groups} groups, ${shape.releases} releases`);
    const started = performance.now();
    const channel = await generateChannel({ bareDir: join(dir, 'srv', 'channel.git'), shape });
    const generatedIn = performance.now() - started;
    if (opts.check) {
      progress('checking the channel with git fsck and git verify-commit');
      await selfCheck(channel);
    }
    server = await startGitServer({ root: join(dir, 'srv') });
    const fx: Fixture = { dir, server, url: server.url('channel.git'), channel, group: opts.group ?? 'group-007', nodes };

    const before = memory();
    progress(`(c) first full accept, ${runs.full} runs`);
    const full = await firstAccept(fx, runs.full);
    const after = memory();
    progress(`(a) no-change poll, ${runs.poll} runs`);
    const poll = await noChangePoll(fx, full.agent, full.gitClone, runs.poll);
    progress(`(b) one new commit, ${runs.incremental} runs`);
    const incremental = await oneNewCommit(fx, full.agent, full.gitClone, runs.incremental);

    return {
      title: `channel fetch + verify: ${shape.commits} commits, ${shape.groups} groups, ${shape.releases} releases; the node follows ${fx.group}`,
      rows: [poll, incremental, full.row],
      notes: [
        `medians; duck = verify() in this process (one agent kept open across polls, as the daemon does); git = native git ${await gitVersion()} spawned`,
        `memory before (c): rss ${mib(before.rss)}, heap used ${mib(before.heapUsed)}, peak rss ${mib(before.maxRss)}`,
        `memory after (c):  rss ${mib(after.rss)}, heap used ${mib(after.heapUsed)} of ${mib(after.heapTotal)}, peak rss ${mib(after.maxRss)}`,
        `channel generated in ${(generatedIn / 1000).toFixed(1)} s (not benchmarked)`,
      ],
    };
  } finally {
    await server?.close();
    for (const node of nodes) await removeTempDir(node.dir);
    await removeTempDir(dir);
  }
}

/** (c): an empty state directory each run, against `git clone --bare` into an empty directory. */
async function firstAccept(fx: Fixture, runs: number): Promise<{ row: Comparison; agent: NodeParts | null; gitClone: string }> {
  const row = comparison('first full accept', 'git clone --bare <url> <empty dir>');
  let agent: NodeParts | null = null;
  let gitClone = '';
  for (let i = 0; i < runs; i++) {
    const node = await makeAgentNode({ url: fx.url, rootKeys: [fx.channel.key], group: fx.group });
    fx.nodes.push(node);
    agent = (await duckRun(row, async () => {
      const opened = await wireNode({ configFile: node.configFile });
      const { sample, result: r } = await timed(fx.server, () => verify(opened));
      expect(r.anchor.commit === fx.channel.tip, `accepted ${r.anchor.commit}, not the tip ${fx.channel.tip}`);
      expect(r.walked === fx.channel.commits.length, `walked ${r.walked} of ${fx.channel.commits.length} commits`);
      return { sample, value: opened };
    })) ?? agent;
    gitClone = join(fx.dir, `git-clone-${i}`);
    const target = gitClone;
    row.git.push((await timed(fx.server, () => git('clone', '--bare', '--quiet', fx.url, target))).sample);
    await expectGitTip(gitClone, fx.channel.tip);
  }
  return { row, agent, gitClone };
}

/** (a): nothing new on the server; a warm agent against `git fetch` into a current clone. */
async function noChangePoll(fx: Fixture, agent: NodeParts | null, gitClone: string, runs: number): Promise<Comparison> {
  const row = comparison('no-change poll', 'git fetch <url> main:main (nothing new)');
  for (let i = 0; i < runs; i++) {
    await duckRun(row, async () => {
      const { sample, result: r } = await timed(fx.server, () => verify(needAgent(agent)));
      expect(!r.fetched && !r.changed, `a poll with nothing new fetched (${r.fetched}) or changed (${r.changed})`);
      return { sample, value: null };
    });
    row.git.push((await timed(fx.server, () => git('-C', gitClone, 'fetch', '--quiet', fx.url, '+refs/heads/main:refs/heads/main'))).sample);
  }
  return row;
}

/** (b): one new signed commit per run; the agent and the clone both hold the previous tip. */
async function oneNewCommit(fx: Fixture, agent: NodeParts | null, gitClone: string, runs: number): Promise<Comparison> {
  const row = comparison('one new commit', 'git fetch <url> main:main into a bare clone of the previous tip');
  for (let i = 0; i < runs; i++) {
    const tip = await fx.channel.appendPromotion();
    await duckRun(row, async () => {
      const { sample, result: r } = await timed(fx.server, () => verify(needAgent(agent)));
      expect(r.fetched && r.anchor.commit === tip && r.walked === 1, `expected to fetch and accept ${tip} after one commit; got ${r.anchor.commit}, walked ${r.walked}`);
      return { sample, value: null };
    });
    row.git.push((await timed(fx.server, () => git('-C', gitClone, 'fetch', '--quiet', fx.url, '+refs/heads/main:refs/heads/main'))).sample);
    await expectGitTip(gitClone, tip);
  }
  return row;
}

function comparison(label: string, gitCommand: string): Comparison {
  return { label, duck: [], git: [], gitCommand };
}

/**
 * Measures the duck side, keeping the first failure on the row instead of aborting the group:
 * the native git figures are still worth printing while the agent is unfinished.
 */
async function duckRun<T>(
  row: Comparison,
  body: () => Promise<{ sample: Sample; value: T }>,
): Promise<T | null> {
  if (row.error) return null;
  try {
    const { sample, value } = await body();
    row.duck.push(sample);
    return value;
  } catch (err) {
    const e = err as Error & { code?: string };
    row.error = `${e.code ? `[${e.code}] ` : ''}${e.message}`;
    progress(`duck failed on "${row.label}": ${row.error}`);
    return null;
  }
}

function needAgent(agent: NodeParts | null): NodeParts {
  if (!agent) throw new Error('no node accepted the channel in (c), so there is nothing to poll from');
  return agent;
}

async function timed<T>(server: GitServer, body: () => Promise<T>): Promise<{ sample: Sample; result: T }> {
  server.resetLog();
  const start = performance.now();
  const result = await body();
  const ms = performance.now() - start;
  const requests = server.requests.length;
  const bytes = server.requests.reduce((n, r) => n + r.bytesOut, 0);
  return { sample: { ms, requests, bytes }, result };
}

function expect(ok: boolean, message: string): void {
  if (!ok) throw new Error(`benchmark precondition: ${message}`);
}

// Auto-gc off: a background gc in the clone would land in a later sample.
function git(...args: string[]): Promise<unknown> {
  return run('git', ['-c', 'gc.auto=0', ...args], { env: isolatedGitEnv() });
}

async function expectGitTip(gitDir: string, tip: string): Promise<void> {
  const head = (await run('git', ['-C', gitDir, 'rev-parse', 'refs/heads/main'], { env: isolatedGitEnv() })).stdout.toString().trim();
  expect(head === tip, `native git has ${head} at main, not ${tip}`);
}

async function gitVersion(): Promise<string> {
  return (await run('git', ['--version'])).stdout.toString().trim().replace(/^git version /, '');
}

function memory(): { rss: number; heapUsed: number; heapTotal: number; maxRss: number } {
  const m = process.memoryUsage();
  // resourceUsage().maxRSS is in KiB: the peak since the process started, not just now.
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, maxRss: process.resourceUsage().maxRSS * 1024 };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The fetch and accept stages as `duck verify` runs them in-process. */
function verify(node: NodeParts) {
  return checkChannel({ node, log: () => undefined });
}
