// The hello example's downtime during an upgrade through `duck run --once` (DESIGN §4.3: create
// the new containers, which stops the old, back up, switch, start, wait for health), beside `compose up -d` alone making the same image change
// on a plain compose project of the same image, in the same run. Downtime is what a client polling
// the port every 50 ms sees: from the last answer of the old version to the first of the new one.
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { detectCompose } from '../agent/src/adapters/compose-cli.js';
import { helloComposeYaml } from '../test/helpers/images.js';
import { freeHostPort, removeProject } from '../examples/harness/compose-project.js';
import type { HelloScenario } from '../test/helpers/hello-channel.js';
import { promoteHello, startHelloScenario } from '../test/helpers/hello-channel.js';
import { makeTempDir, removeTempDir, run } from '../examples/harness/tmp.js';
// Types only: index.ts runs the benchmarks when loaded, so a value import here would be a cycle.
import type { BenchReport, Comparison } from './index.js';

export interface ApplyDowntimeOptions {
  /** Changes per side; they alternate 1.0.0 -> 1.1.0 -> 1.0.0 ... */
  runs?: number;
  pollMs?: number;
}

const PLAIN_PROJECT = 'duck-bench-plain';
// Its own app, so its compose project is never the one the e2e suites share on the same engine.
const BENCH_APP = 'bench-hello';
const HELLO_PROJECT = `duck-${BENCH_APP}`;
const VERSIONS = ['1.0.0', '1.1.0'] as const;
/** A poll that takes longer than this counts as failed (the client gives up, as a load balancer would). */
const POLL_TIMEOUT_MS = 1000;
/** How long to wait for the new version to answer after the change command returned. */
const SETTLE_TIMEOUT_MS = 30_000;

const progress = (message: string): void => void process.stderr.write(`[apply-downtime] ${message}\n`);

/** One poll of /version.txt: when it was sent, when its answer (or failure) came, what it served. */
interface Poll {
  sent: number;
  at: number;
  version: string | null;
}

/** What the client saw across one change. */
interface Observed {
  downtimeMs: number;
  /** Epoch ms of the old version's last answer and the new one's first: the window the client saw. */
  downFrom: number;
  downTo: number;
  /** Polls sent between the old version's last answer and the new one's first: all failed. */
  failedPolls: number;
  /** Polls that failed after the new version first answered (hung in Docker's port proxy, timed out). */
  lateFailures: number;
  polls: number;
}

/** One step of duck's change as its JSON log told it: epoch ms of its start and end. */
interface StepSpan {
  step: string;
  start: number;
  end: number;
}

/** The steps of one duck change beside the window the client saw the app down. */
interface Split {
  steps: StepSpan[];
  /** How the up step started the new version: `engine` (the created containers) or `compose: <why>`. */
  startedBy: string;
  downFrom: number;
  downTo: number;
}

interface Compose {
  command: string[];
  label: string;
}

export async function benchApplyDowntime(opts: ApplyDowntimeOptions = {}): Promise<BenchReport> {
  const runs = opts.runs ?? 3;
  const pollMs = opts.pollMs ?? 50;
  let scenario: HelloScenario | null = null;
  let plainDir: string | null = null;
  try {
    const info = await detectCompose();
    const compose: Compose = { command: info.command, label: `${info.command.join(' ')} ${info.version}` };

    progress('building the hello images and the signed channel; installing 1.0.0 with duck run --once');
    const s = await startHelloScenario({ prefix: 'duck-bench-downtime-', app: BENCH_APP, releases: { '1.0.0': {}, '1.1.0': {} } });
    scenario = s;
    await promoteHello(s.ch, VERSIONS[0], s.key, 'production', {}, BENCH_APP);
    const installed = await s.node.duck('run', '--once');
    expect(installed.code === 0, `installing 1.0.0 exited with ${installed.code}: ${installed.stderr.trim()}`);
    expect((await s.served()) === VERSIONS[0], `after the install the app serves "${await s.served()}", not ${VERSIONS[0]}`);

    progress(`starting the plain compose project ${PLAIN_PROJECT} at ${VERSIONS[0]}`);
    await removeProject(PLAIN_PROJECT);
    plainDir = await makeTempDir('duck-bench-plain-');
    const plain = { dir: plainDir, port: await freeHostPort() };
    await writeFile(join(plain.dir, 'compose.yaml'), await helloComposeYaml(VERSIONS[0]));
    await composeUp(compose, plain);
    await waitForVersion(plain.port, VERSIONS[0], pollMs);

    const downtime: Comparison = {
      label: 'client-observed downtime',
      duck: [],
      git: [],
      gitCommand: `${compose.command.join(' ')} -p ${PLAIN_PROJECT} up -d after changing the image tag in compose.yaml (no health wait)`,
    };
    const wall: Comparison = {
      label: 'change wall time',
      duck: [],
      git: [],
      gitCommand: `the same \`${compose.command.join(' ')} up -d\`, from spawn to exit`,
    };
    const failed: Comparison = {
      label: 'client requests failed during the switch',
      unit: 'count',
      duck: [],
      git: [],
      gitCommand: 'the same compose up -d: polls sent between the old version\'s last answer and the new one\'s first, plus those that failed after it',
    };
    const seen = { duck: [] as Observed[], compose: [] as Observed[] };
    const splits: Split[] = [];
    let duckError: string | null = null;

    for (let i = 0; i < runs; i++) {
      const from = VERSIONS[i % 2]!;
      const to = VERSIONS[(i + 1) % 2]!;
      if (!duckError) {
        progress(`run ${i + 1}/${runs}: duck ${from} -> ${to}`);
        await promoteHello(s.ch, to, s.key, 'production', {}, BENCH_APP);
        try {
          let run: { steps: StepSpan[]; startedBy: string } = { steps: [], startedBy: '' };
          const r = await observeChange(s.port, from, to, pollMs, async () => void (run = await duckRunOnce(s, to)));
          downtime.duck.push({ ms: r.observed.downtimeMs });
          wall.duck.push({ ms: r.ms });
          failed.duck.push({ ms: r.observed.failedPolls + r.observed.lateFailures });
          seen.duck.push(r.observed);
          splits.push({ ...run, downFrom: r.observed.downFrom, downTo: r.observed.downTo });
        } catch (err) {
          duckError = (err as Error).message;
          downtime.error = duckError;
          wall.error = duckError;
          progress(`duck failed: ${duckError}`);
        }
      }
      progress(`run ${i + 1}/${runs}: ${compose.command.join(' ')} up -d ${from} -> ${to}`);
      await writeFile(join(plain.dir, 'compose.yaml'), await helloComposeYaml(to));
      const r = await observeChange(plain.port, from, to, pollMs, () => composeUp(compose, plain));
      downtime.git.push({ ms: r.observed.downtimeMs });
      wall.git.push({ ms: r.ms });
      failed.git.push({ ms: r.observed.failedPolls + r.observed.lateFailures });
      seen.compose.push(r.observed);
    }

    return {
      title: `upgrade downtime: the hello example (busybox httpd, compose healthcheck every 1 s), ${VERSIONS.join(' <-> ')} alternating`,
      baseline: 'compose',
      rows: [downtime, failed, wall],
      notes: [
        `medians; a client sends GET http://127.0.0.1:<port>/version.txt every ${pollMs} ms (a new connection each, not waiting for earlier ones, ${POLL_TIMEOUT_MS} ms timeout); ` +
          'downtime = from the last answer of the old version to the first answer of the new one; failed polls = those sent in between',
        `duck = the real CLI \`duck run --once\` on project ${HELLO_PROJECT} (process start, channel fetch + verify, release files, pre-copy, create (compose up --no-start: the old containers stopped and replaced), backup, switch, up (the engine's start of the created containers: Engine API on its socket, else docker start), health wait); ` +
          `compose = ${compose.label} on a plain project ${PLAIN_PROJECT} of the same images, which neither waits for health nor backs anything up`,
        'on both sides a new container\'s published port accepts connections (Docker\'s port proxy) before the app answers: polls sent then hang and are answered together ' +
          'once it does, or time out; so part of each downtime is the engine\'s (DUCK_BENCH_DEBUG=1 prints every poll)',
        `duck per run: ${describe(seen.duck)}`,
        `duck's steps (medians, from its JSON log; "down" = the part of the step the client saw no answer): ${describeSplit(splits)}`,
        ...splits.map((split, i) => `duck run ${i + 1} by step: ${describeRun(split)}`),
        `compose per run: ${describe(seen.compose)}`,
        `uses its own project ${HELLO_PROJECT}, never the e2e suites' or the demo's`,
      ],
    };
  } finally {
    await scenario?.close().catch((err: Error) => progress(`cleanup of ${HELLO_PROJECT} failed: ${err.message}`));
    await removeProject(PLAIN_PROJECT).catch((err: Error) => progress(`cleanup of ${PLAIN_PROJECT} failed: ${err.message}`));
    if (plainDir) await removeTempDir(plainDir);
  }
}

/** Runs the change; returns its steps as the JSON log told them (each `step` event ends one, with its ms) and how the up step started. */
async function duckRunOnce(s: HelloScenario, to: string): Promise<{ steps: StepSpan[]; startedBy: string }> {
  const r = await s.node.duck('run', '--once', '--log-format', 'json');
  expect(r.code === 0, `duck run --once exited with ${r.code}: ${r.stderr.trim()}`);
  const events = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const outcomes = events.filter((e) => e.event === 'outcome');
  expect(outcomes.length === 1 && outcomes[0]!.outcome === 'applied', `duck run --once to ${to} reported outcomes ${JSON.stringify(outcomes)}`);
  const started = events.find((e) => e.event === 'started');
  const startedBy = started ? (started.by === 'engine' ? `engine (its starts ${String(started.startMs)} ms of the step)` : `compose: ${String(started.reason)}`) : 'unknown';
  const steps = events
    .filter((e) => e.event === 'step')
    .map((e) => {
      const end = Date.parse(String(e.time));
      return { step: String(e.step), start: end - Number(e.ms), end };
    });
  return { steps, startedBy };
}

async function composeUp(compose: Compose, plain: { dir: string; port: number }): Promise<void> {
  const [cmd, ...pre] = compose.command;
  await run(cmd!, [...pre, '-p', PLAIN_PROJECT, '-f', 'compose.yaml', 'up', '-d'], {
    cwd: plain.dir,
    env: { ...process.env, HELLO_PORT: String(plain.port) },
  });
}

/**
 * Polls `port` while `change` runs and until `to` answers; checks the served version went from
 * `from` to `to` once, with nothing else served in between and no old answer after the new one.
 */
async function observeChange(port: number, from: string, to: string, pollMs: number, change: () => Promise<void>): Promise<{ ms: number; observed: Observed }> {
  const poller = startPoller(port, pollMs);
  try {
    await poller.until(from, SETTLE_TIMEOUT_MS);
    const start = performance.now();
    await change();
    const ms = performance.now() - start;
    await poller.until(to, SETTLE_TIMEOUT_MS);
    return { ms, observed: downtimeOf(await poller.stop(), from, to) };
  } finally {
    await poller.stop();
  }
}

function downtimeOf(unordered: readonly Poll[], from: string, to: string): Observed {
  // By answer time: downtime is what the client saw, and a slow failure must not hide a later answer.
  const polls = [...unordered].sort((a, b) => a.at - b.at);
  const strange = polls.filter((p) => p.version !== null && p.version !== from && p.version !== to);
  expect(strange.length === 0, `the app served ${strange[0]?.version} during a change ${from} -> ${to}`);
  const firstNew = polls.findIndex((p) => p.version === to);
  const lastOld = polls.map((p) => p.version).lastIndexOf(from);
  expect(firstNew >= 0, `${to} never answered`);
  expect(lastOld >= 0, `${from} never answered before the change`);
  expect(lastOld < firstNew, `${from} answered again after ${to} had (the version did not flip once)`);
  const [last, first] = [polls[lastOld]!, polls[firstNew]!];
  const failed = polls.filter((p) => p.version === null && p.sent > last.sent && p.sent < first.sent).length;
  if (process.env.DUCK_BENCH_DEBUG) {
    progress(`polls: ${polls.map((p) => `${(p.sent - last.sent).toFixed(0)}+${(p.at - p.sent).toFixed(0)}:${p.version ?? 'x'}`).join(' ')}`);
  }
  const late = polls.slice(firstNew + 1).filter((p) => p.version === null).length;
  // performance.now() is relative to timeOrigin: epoch ms, to line up with the log's step times.
  const epoch = (t: number): number => performance.timeOrigin + t;
  return { downtimeMs: first.at - last.at, downFrom: epoch(last.at), downTo: epoch(first.at), failedPolls: failed, lateFailures: late, polls: polls.length };
}

/**
 * A client sending a request every `pollMs` whether or not the previous ones have answered: a
 * request that hangs until its timeout (a connection into a container going away) must not delay
 * noticing the new version.
 */
function startPoller(port: number, pollMs: number): { until(version: string, timeoutMs: number): Promise<void>; stop(): Promise<Poll[]> } {
  const polls: Poll[] = [];
  const inFlight = new Set<Promise<void>>();
  let latest: Poll | null = null;
  let stopped = false;
  const loop = (async () => {
    for (let next = performance.now(); !stopped; next += pollMs) {
      const sent = performance.now();
      const pending = getVersion(port).then((version) => {
        const poll = { sent, at: performance.now(), version };
        polls.push(poll);
        if (!latest || poll.sent > latest.sent) latest = poll;
        inFlight.delete(pending);
      });
      inFlight.add(pending);
      const wait = next + pollMs - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await Promise.all(inFlight);
  })();
  return {
    async until(version, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      // The answer to the most recently sent request that has answered, not the last to arrive.
      while (latest?.version !== version) {
        if (performance.now() > deadline) {
          throw new Error(`benchmark precondition: port ${port} did not serve ${version} within ${timeoutMs} ms (last: ${latest?.version ?? 'no answer'})`);
        }
        await sleep(pollMs / 2);
      }
    },
    async stop() {
      stopped = true;
      await loop;
      return polls;
    },
  };
}

async function waitForVersion(port: number, version: string, pollMs: number): Promise<void> {
  const poller = startPoller(port, pollMs);
  try {
    await poller.until(version, SETTLE_TIMEOUT_MS);
  } finally {
    await poller.stop();
  }
}

/** The trimmed body of a 200 answer, or null for anything else (refused, reset, timeout, 404). */
function getVersion(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    // agent: false: a new connection per poll, as separate clients would make; no reused socket
    // that survives the container it was connected to.
    const req = request({ host: '127.0.0.1', port, path: '/version.txt', agent: false, timeout: POLL_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(res.statusCode === 200 ? Buffer.concat(chunks).toString('utf8').trim() : null));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
    req.end();
  });
}

function describe(observed: readonly Observed[]): string {
  if (observed.length === 0) return '-';
  return observed.map((o) => `${formatMs(o.downtimeMs)} down, ${o.failedPolls} polls failed between, ${o.lateFailures} after the first new answer (of ${o.polls})`).join('; ');
}

/** How much of [start, end] falls inside the client's down window. */
function downPart(span: StepSpan, split: Split): number {
  return Math.max(0, Math.min(span.end, split.downTo) - Math.max(span.start, split.downFrom));
}

/** Per step kind, the median time and the median part of it the client saw down, in run order of the first run. */
function describeSplit(splits: readonly Split[]): string {
  if (splits.length === 0) return '-';
  const kinds = [...new Set(splits.flatMap((s) => s.steps.map((x) => x.step)))];
  const med = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const parts = kinds.map((kind) => {
    const spans = splits.map((split) => ({ split, span: split.steps.find((x) => x.step === kind) })).filter((x) => x.span);
    const total = med(spans.map((x) => x.span!.end - x.span!.start));
    const down = med(spans.map((x) => downPart(x.span!, x.split)));
    return `${kind} ${formatMs(total)}${down > 0 ? ` (down ${formatMs(down)})` : ''}`;
  });
  // What the client saw down outside every step: the journal writes between them, the process's own exit.
  const outside = med(splits.map((split) => split.downTo - split.downFrom - split.steps.reduce((sum, x) => sum + downPart(x, split), 0)));
  return `${parts.join(', ')}; down outside any step ${formatMs(outside)}`;
}

function describeRun(split: Split): string {
  const steps = split.steps.map((x) => `${x.step} ${formatMs(x.end - x.start)}${downPart(x, split) > 0 ? ` (down ${formatMs(downPart(x, split))})` : ''}`);
  return `${steps.join(', ')}; up started by ${split.startedBy}; the client saw it down ${formatMs(split.downTo - split.downFrom)}`;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

function expect(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(`benchmark precondition: ${message}`);
}
