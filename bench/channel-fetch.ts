// Channel fetch and verify (DESIGN §3) against native git doing the same fetch and checking the
// same signatures (git verify-commit through GnuPG), over the same smart-HTTP server in the same
// run: a poll with nothing new, one new commit, and a first accept (issue 13's rows). Native git
// reads no YAML and applies no trust policy; it verifies every commit of the first-parent chain,
// where Duck verifies the commits that change the policy and the tip (DESIGN §3).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkChannel } from '../agent/src/node/cycle.js';
import { wireNode } from '../agent/src/node/wiring.js';
import type { AgentNode } from '../examples/harness/agent-node.js';
import { DUCK_BIN, makeAgentNode } from '../examples/harness/agent-node.js';
import { makeVerifierHome, stopGpgAgent } from '../examples/harness/keys.js';
import { isolatedGitEnv } from '../test/helpers/channel-builder.js';
import type { GitServer } from '../examples/harness/git-http-server.js';
import { startGitServer } from '../examples/harness/git-http-server.js';
import { makeTempDir, removeTempDir, run } from '../examples/harness/tmp.js';
import type { ChannelShape, GeneratedChannel } from './generate-channel.js';
import { DEFAULT_SHAPE, generateChannel, selfCheck } from './generate-channel.js';
// Types only: index.ts runs the benchmarks when loaded, so a value import here would be a cycle.
import type { BenchReport, Comparison, Sample } from './index.js';
import type { ProcessRun } from './process-peak.js';
import { runMeasured } from './process-peak.js';

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
  gnupgHome: string;
}

const progress = (message: string): void => void process.stderr.write(`[channel-fetch] ${message}\n`);

export async function benchChannelFetch(opts: ChannelFetchOptions = {}): Promise<BenchReport> {
  const shape = opts.shape ?? DEFAULT_SHAPE;
  const runs = opts.runs ?? DEFAULT_RUNS;
  const dir = await makeTempDir('duck-bench-');
  const nodes: AgentNode[] = [];
  let server: GitServer | null = null;
  let gnupgHome: string | null = null;
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
    // The baseline verifies signatures too: git verify-commit through GnuPG, the key imported here.
    gnupgHome = await makeVerifierHome([channel.key]);
    const fx: Fixture = { dir, server, url: server.url('channel.git'), channel, group: opts.group ?? 'group-007', nodes, gnupgHome };

    progress(`(c) first accept as a process, ${runs.full} runs`);
    const full = await firstAccept(fx, runs.full);
    progress(`(a) no-change poll, ${runs.poll} runs`);
    const poll = await noChangePoll(fx, full.gitClone, runs.poll);
    progress(`(b) one new commit as a process, ${runs.incremental} runs`);
    const incremental = await oneNewCommit(fx, full.node, full.gitClone, runs.incremental);

    return {
      title: `channel fetch + verify: ${shape.commits} commits, ${shape.groups} groups, ${shape.releases} releases; the node follows ${fx.group}`,
      rows: [poll, incremental.row, full.row, full.cloneOnly],
      notes: [
        `medians; git = native git ${await gitVersion()} and ${await gpgVersion()} spawned`,
        'no-change poll: checkChannel() in this process, on a node kept open as the daemon keeps it (after one unmeasured accept)',
        `one new commit and first accept: \`duck verify --json\` spawned (node ${process.version}, start-up included)`,
        `peak RSS, first accept (median VmHWM, polled every 10 ms): duck verify ${peak(full.duckPeak)}; git clone + verify-commit ${peak(full.gitPeak)} (the largest single process of the tree)`,
        `peak RSS, one new commit: duck verify ${peak(incremental.duckPeak)}; git fetch + verify-commit ${peak(incremental.gitPeak)}`,
        `channel generated in ${(generatedIn / 1000).toFixed(1)} s (not benchmarked)`,
      ],
    };
  } finally {
    await server?.close();
    if (gnupgHome) {
      await stopGpgAgent(gnupgHome);
      await removeTempDir(gnupgHome);
    }
    for (const node of nodes) await removeTempDir(node.dir);
    await removeTempDir(dir);
  }
}

/**
 * (c): `duck verify` on an empty state directory each run, against `git clone --bare` into an
 * empty directory followed by `git verify-commit` of every commit of the first-parent chain.
 */
async function firstAccept(
  fx: Fixture,
  runs: number,
): Promise<{ row: Comparison; cloneOnly: Comparison; node: AgentNode | null; gitClone: string; duckPeak: number[]; gitPeak: number[] }> {
  const row = comparison('first accept', 'git clone --bare <url> <empty dir> + git rev-list --first-parent main + git verify-commit <each>');
  // The same duck runs against the transfer alone: git verify-commit spawns gpg once per commit,
  // which dominates the baseline above.
  const cloneOnly = comparison('first accept, vs clone alone', 'git clone --bare <url> <empty dir> (no signature checked)');
  const duckPeak: number[] = [];
  const gitPeak: number[] = [];
  let node: AgentNode | null = null;
  let gitClone = '';
  for (let i = 0; i < runs; i++) {
    const fresh = await makeAgentNode({ url: fx.url, rootKeys: [fx.channel.key], group: fx.group });
    fx.nodes.push(fresh);
    node =
      (await duckRun(row, async () => {
        const { sample, run: r } = await duckVerify(fx, fresh);
        expect(r.json.commit === fx.channel.tip, `accepted ${String(r.json.commit)}, not the tip ${fx.channel.tip}`);
        duckPeak.push(r.peakMiB);
        return { sample, value: fresh };
      })) ?? node;
    gitClone = join(fx.dir, `git-clone-${i}`);
    const clone = await timedProcess(fx.server, 'git', gitArgs('clone', '--bare', '--quiet', fx.url, gitClone), fx);
    const chain = (await run('git', gitArgs('-C', gitClone, 'rev-list', '--first-parent', 'main'), { env: isolatedGitEnv() })).stdout.toString().trim().split('\n');
    expect(chain.length === fx.channel.commits.length, `native git sees ${chain.length} commits, not ${fx.channel.commits.length}`);
    const started = performance.now();
    const verified = await runMeasured('git', gitArgs('-C', gitClone, 'verify-commit', ...chain), { env: gitEnv(fx) });
    expect(verified.code === 0, `git verify-commit failed: ${verified.stderr.slice(-400)}`);
    // rev-list is counted with verify-commit: finding the chain is part of the baseline's work.
    row.git.push({ ...clone.sample, ms: clone.sample.ms + (performance.now() - started) });
    cloneOnly.git.push(clone.sample);
    gitPeak.push(Math.max(clone.peakMiB, verified.peakMiB));
    await expectGitTip(gitClone, fx.channel.tip);
  }
  cloneOnly.duck = row.duck;
  if (row.error) cloneOnly.error = row.error;
  return { row, cloneOnly, node, gitClone, duckPeak, gitPeak };
}

/** (a): nothing new on the server; a warm agent in this process against `git fetch` into a current clone. */
async function noChangePoll(fx: Fixture, gitClone: string, runs: number): Promise<Comparison> {
  const row = comparison('no-change poll', 'git fetch <url> main:main (nothing new)');
  const node = await makeAgentNode({ url: fx.url, rootKeys: [fx.channel.key], group: fx.group });
  fx.nodes.push(node);
  const agent = await duckRun(row, async () => {
    const opened = await wireNode({ configFile: node.configFile });
    const r = await verify(opened);
    expect(r.anchor.commit === fx.channel.tip, `the warm-up accepted ${r.anchor.commit}, not the tip`);
    return { sample: null, value: opened };
  });
  for (let i = 0; i < runs; i++) {
    if (agent) {
      await duckRun(row, async () => {
        const { sample, result: r } = await timed(fx.server, () => verify(agent));
        expect(!r.fetched && !r.changed, `a poll with nothing new fetched (${r.fetched}) or changed (${r.changed})`);
        return { sample, value: null };
      });
    }
    row.git.push((await timed(fx.server, () => git('-C', gitClone, 'fetch', '--quiet', fx.url, '+refs/heads/main:refs/heads/main'))).sample);
  }
  return row;
}

/** (b): one new signed commit per run; `duck verify` on the node of (c) and the clone both hold the previous tip. */
async function oneNewCommit(fx: Fixture, node: AgentNode | null, gitClone: string, runs: number): Promise<{ row: Comparison; duckPeak: number[]; gitPeak: number[] }> {
  const row = comparison('one new commit', 'git fetch <url> main:main into a bare clone of the previous tip + git verify-commit <new tip>');
  const duckPeak: number[] = [];
  const gitPeak: number[] = [];
  for (let i = 0; i < runs; i++) {
    const tip = await fx.channel.appendPromotion();
    await duckRun(row, async () => {
      if (!node) throw new Error('no node accepted the channel in (c), so there is nothing to verify from');
      const { sample, run: r } = await duckVerify(fx, node);
      expect(r.json.commit === tip && r.json.fetched === true, `expected to fetch and accept ${tip}; got ${String(r.json.commit)}`);
      duckPeak.push(r.peakMiB);
      return { sample, value: null };
    });
    const fetched = await timedProcess(fx.server, 'git', gitArgs('-C', gitClone, 'fetch', '--quiet', fx.url, '+refs/heads/main:refs/heads/main'), fx);
    const started = performance.now();
    const verified = await runMeasured('git', gitArgs('-C', gitClone, 'verify-commit', tip), { env: gitEnv(fx) });
    expect(verified.code === 0, `git verify-commit failed: ${verified.stderr.slice(-400)}`);
    row.git.push({ ...fetched.sample, ms: fetched.sample.ms + (performance.now() - started) });
    gitPeak.push(Math.max(fetched.peakMiB, verified.peakMiB));
    await expectGitTip(gitClone, tip);
  }
  return { row, duckPeak, gitPeak };
}

/** `duck verify --json` as a process, as an operator or a timer runs it. */
async function duckVerify(fx: Fixture, node: AgentNode): Promise<{ sample: Sample; run: ProcessRun & { json: Record<string, unknown> } }> {
  const { sample, peakMiB, result } = await timedProcess(fx.server, process.execPath, [DUCK_BIN, 'verify', '--json', '--config', node.configFile], fx, node.dir);
  if (result.code !== 0) throw new Error(`duck verify exited ${result.code}: ${(result.stderr || result.stdout).slice(-400)}`);
  return { sample, run: { ...result, peakMiB, json: JSON.parse(result.stdout) as Record<string, unknown> } };
}

async function timedProcess(server: GitServer, cmd: string, args: readonly string[], fx: Fixture, cwd?: string): Promise<{ sample: Sample; peakMiB: number; result: ProcessRun }> {
  server.resetLog();
  const result = await runMeasured(cmd, args, { env: gitEnv(fx), ...(cwd ? { cwd } : {}) });
  if (cmd === 'git' && result.code !== 0) throw new Error(`git ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  const requests = server.requests.length;
  const bytes = server.requests.reduce((n, r) => n + r.bytesOut, 0);
  return { sample: { ms: result.ms, requests, bytes }, peakMiB: result.peakMiB, result };
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
  body: () => Promise<{ sample: Sample | null; value: T }>,
): Promise<T | null> {
  if (row.error) return null;
  try {
    const { sample, value } = await body();
    if (sample) row.duck.push(sample);
    return value;
  } catch (err) {
    const e = err as Error & { code?: string };
    row.error = `${e.code ? `[${e.code}] ` : ''}${e.message}`;
    progress(`duck failed on "${row.label}": ${row.error}`);
    return null;
  }
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
function gitArgs(...args: string[]): string[] {
  return ['-c', 'gc.auto=0', ...args];
}

function git(...args: string[]): Promise<unknown> {
  return run('git', gitArgs(...args), { env: isolatedGitEnv() });
}

function gitEnv(fx: Fixture): NodeJS.ProcessEnv {
  return isolatedGitEnv({ GNUPGHOME: fx.gnupgHome });
}

async function gpgVersion(): Promise<string> {
  return (await run('gpg', ['--version'])).stdout.toString().split('\n')[0]!.trim();
}

function peak(values: readonly number[]): string {
  if (values.length === 0) return '-';
  const sorted = [...values].sort((a, b) => a - b);
  return `${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} MiB`;
}

async function expectGitTip(gitDir: string, tip: string): Promise<void> {
  const head = (await run('git', ['-C', gitDir, 'rev-parse', 'refs/heads/main'], { env: isolatedGitEnv() })).stdout.toString().trim();
  expect(head === tip, `native git has ${head} at main, not ${tip}`);
}

async function gitVersion(): Promise<string> {
  return (await run('git', ['--version'])).stdout.toString().trim().replace(/^git version /, '');
}

/** The fetch and accept stages as `duck verify` runs them in-process. */
function verify(node: Awaited<ReturnType<typeof wireNode>>) {
  return checkChannel({ node, log: () => undefined });
}
