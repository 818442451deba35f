import { mkdir } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { watch } from 'chokidar';
import type { OverlayFile } from '../../../schemas/index.js';
import { toDuckError } from '../../../schemas/errors.js';
import { DAEMON } from '../adapters/instance-lock.js';
import type { OverlayWatch } from '../adapters/overlay-file.js';
import { watchOverlay } from '../adapters/overlay-file.js';
import { answerRequest, clearStaleAnswers, progressAppender, requestsDir, takeRequests } from '../adapters/request-queue.js';
import { earliestUntil, nextPollAt, pollOffsetMs, firstPollAt } from '../core/poll-schedule.js';
import type { Logger } from '../ports.js';
import type { Reporter } from '../report/reporter.js';
import type { CycleOutcome } from './cycle.js';
import { decisionReuse, runCycle } from './cycle.js';
import { cycleLogger } from './cycle-log.js';
import type { UpdaterStarts } from './agent-build.js';
import { cycleJournal, foldSelfUpdate, heartbeat, resumeInterruptedUpdate, startDueUpdate } from './agent-build.js';
import type { Writer } from './session.js';
import { answerOf, openWriter, withProgress } from './session.js';
import { nodeReporter } from './telemetry.js';
import type { NodeParts } from './wiring.js';

export interface RunOptions {
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** One cycle, then return (tests and cron-style use). */
  readonly once?: boolean;
  /**
   * A service run beside the loop (the console), started once this process holds the writer, so
   * whoever sees it can count on the daemon to carry out requests; closed when the loop ends.
   */
  readonly beside?: () => Promise<{ close(): Promise<void> }>;
}

/** `duck run --once` has one chance to report: a little longer than SIGTERM's last send. */
const ONCE_FINAL_SEND_MS = 10_000;

/**
 * `duck run` (DESIGN §4.5): the writer session held for as long as the daemon runs. It fetches
 * every interval at this node's stable offset, re-plans at once on an overlay change, wakes for
 * schedules and windows on time. Wake-ups that arrive during a cycle fold into one follow-up
 * cycle. Operators' commands (duck upgrade, stop, verify...) arrive as request files and run
 * between cycles. SIGTERM ends the loop between steps: a change that has not stopped anything
 * yet is abandoned, one that has is carried through to a running app first (see applyChange).
 */
export async function runDaemon(node: NodeParts, opts: RunOptions): Promise<void> {
  const { log } = opts;
  if (!opts.once) idleHeap();
  const writer = await openWriter(node, DAEMON, log);
  if (!opts.once) await resumeInterruptedUpdate(node, log);
  let overlayWatch: OverlayWatch | null = null;
  let reporter: Reporter | null = null;
  let requestWatch: ReturnType<typeof watch> | null = null;
  let beside: { close(): Promise<void> } | null = null;
  let wake: (() => void) | null = null;
  let pendingWake = false;
  let lastCycle: CycleOutcome | null = null;
  const poke = (): void => {
    pendingWake = true;
    wake?.();
  };
  opts.signal.addEventListener('abort', poke);
  try {
    const queue = requestsDir(node.config.stateDir);
    await mkdir(queue, { recursive: true, mode: 0o700 });
    await clearStaleAnswers(node.config.stateDir);
    requestWatch = watch(queue, { depth: 0, ignoreInitial: true });
    requestWatch.on('add', poke);
    await new Promise<void>((ready) => requestWatch!.once('ready', ready));
    if (opts.beside) beside = await opts.beside();
    const overlays = await watchOverlay(node.config.overlay, (_overlay, error) => {
      if (error) log('overlay-invalid', { file: node.config.overlay, message: error.message });
      else log('overlay-changed', { file: node.config.overlay });
      poke();
    });
    overlayWatch = overlays;
    if (overlays.error()) log('overlay-invalid', { file: node.config.overlay, message: overlays.error()!.message });
    const { intervalMs } = node.config.channel;
    const offset = pollOffsetMs(writer.agentId, intervalMs);
    // A fleet that boots together spreads its first fetch; --once is asked for now, and operators'
    // requests are served at once whatever the schedule.
    const started = Date.now();
    const firstPoll = opts.once ? started : firstPollAt(started, intervalMs, offset, node.config.startSpreadMs);
    const firstPollInMs = firstPoll - started;
    log('start', { agentId: writer.agentId, group: node.config.group, channel: node.config.channel.url, intervalMs, pollOffsetMs: offset, firstPollInMs });
    // Telemetry runs beside the cycles: they only queue events; no cycle awaits the controller.
    reporter = nodeReporter(node, writer.agentId, { log, lastCycle: () => lastCycle, spread: !opts.once });
    const report = async (outcome: CycleOutcome): Promise<void> => {
      lastCycle = outcome;
      if (reporter) await queueReport(reporter, log);
    };
    if (reporter) {
      await queueReport(reporter, log);
      if (!opts.once) reporter.start();
    }

    const logCycle = cycleLogger(log);
    const reuse = decisionReuse();
    const updaterStarts: UpdaterStarts = { last: null };
    let nextPoll = firstPoll;
    while (!opts.signal.aborted) {
      const fetch = Date.now() >= nextPoll;
      pendingWake = false;
      let waits: readonly { until: string | null }[] = [];
      await serveRequests(node, writer, overlays.current(), opts, report);
      try {
        const overlay = overlays.current();
        const env = () => writer.env({ overlay, log, signal: opts.signal });
        const journal = await cycleJournal(node, log);
        await foldSelfUpdate(node, journal, log);
        const outcome = await runCycle({ node, log, overlay, env, report, reuse }, { fetch });
        waits = outcome.waits;
        logCycle(outcome);
        await heartbeat(node, outcome, fetch, log);
        if (!opts.once) await startDueUpdate(node, outcome, journal, updaterStarts, log);
      } catch (err) {
        const e = toDuckError(err);
        log('cycle-failed', { code: e.code, message: e.message });
      }
      // A throttled channel (429, Retry-After) sets a later retry time: the next poll waits for it.
      if (fetch) nextPoll = Math.max(nextPollAt(Date.now(), intervalMs, offset), Date.parse(node.state.read().channel.fetchFailure?.nextTryAt ?? '') || 0);
      if (opts.once) break;
      if (pendingWake) continue;
      const until = Math.min(nextPoll, earliestUntil(waits.map((w) => w.until), Date.now()) ?? Infinity);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, until - Date.now()));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    // The last send happens while this process still holds the state directory.
    await reporter?.stop(opts.once ? ONCE_FINAL_SEND_MS : undefined);
    opts.signal.removeEventListener('abort', poke);
    await overlayWatch?.close();
    await requestWatch?.close();
    await beside?.close();
    await writer.release();
    log('stop', {});
  }
}

/**
 * A long-running daemon is idle almost all the time: V8's heap is tuned for memory, not peak
 * throughput (issue 13, bench daemon-memory: ~130 -> ~100 MiB RSS with 200 apps, for ~2 ms more
 * CPU per poll). The flag is one V8 reads as the heap grows and shrinks, so it works once set.
 */
function idleHeap(): void {
  setFlagsFromString('--optimize-for-size');
}

/** A state write only: a failure to queue is logged and never stops the loop. */
async function queueReport(reporter: Reporter, log: Logger): Promise<void> {
  try {
    await reporter.collect();
  } catch (err) {
    log('report-queue-failed', { message: toDuckError(err).message });
  }
}

/**
 * Operators' requests, oldest first, each answered (a refusal included) before the next. The steps
 * logged while one is carried out also go to its progress file, for the command that waits.
 */
async function serveRequests(node: NodeParts, writer: Writer, overlay: OverlayFile, opts: RunOptions, report: (o: CycleOutcome) => Promise<void>): Promise<void> {
  for (const { id, request } of await takeRequests(node.config.stateDir)) {
    opts.log('request', { id, ...request });
    const progress = progressAppender(node.config.stateDir, id);
    const log = withProgress(opts.log, progress.add);
    const result = await answerOf(() => writer.carryOut(request, { overlay, log, signal: opts.signal, report }));
    opts.log('request-done', { id, kind: request.kind, ok: result.ok, error: result.error?.message ?? null });
    await progress.flushed();
    await answerRequest(node.config.stateDir, id, result);
  }
}
