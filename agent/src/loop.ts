import { mkdir } from 'node:fs/promises';
import { watch } from 'chokidar';
import type { Agent } from './agent.js';
import { acquireInstanceLock, DAEMON } from './adapters/instance-lock.js';
import { answerRequest, clearStaleAnswers, requestsDir, takeRequests } from './adapters/request-queue.js';
import type { OverlayFile } from '../../schemas/index.js';
import type { OverlayWatch } from './adapters/overlay-file.js';
import { watchOverlay } from './adapters/overlay-file.js';
import type { Logger } from './apply/apply-env.js';
import type { ApplyServices } from './apply/apply-env.js';
import { applyEnvFor, createApplyServices } from './apply-wiring.js';
import { earliestUntil, nextPollAt, pollOffsetMs } from './core/poll-schedule.js';
import { toDuckError } from '../../schemas/errors.js';
import { ensureAgentId } from './desired-state.js';
import { executeRequest } from './operator-acts.js';
import { answerOf } from './operator-session.js';
import { recoverJournals, reconcileOnce } from './reconcile.js';
import type { Reporter } from './report/reporter.js';
import { createReporter } from './report/reporter.js';

export interface RunOptions {
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** One cycle, then return (tests and cron-style use). */
  readonly once?: boolean;
}

/** `duck run --once` has one chance to report: a little longer than SIGTERM's last send. */
const ONCE_FINAL_SEND_MS = 10_000;

/**
 * `duck run` (DESIGN §4.5): fetch every interval at this node's stable offset, re-plan at once on
 * an overlay change, wake for schedules and windows on time. Wake-ups that arrive during a cycle
 * fold into one follow-up cycle. Operators' commands (duck upgrade, stop, restore...) arrive as
 * request files and run between cycles: this process is the only writer of the state directory.
 * SIGTERM ends the loop between steps: a change that has not stopped anything yet is abandoned,
 * one that has is carried through to a running app first (see applyChange).
 */
export async function runAgent(agent: Agent, opts: RunOptions): Promise<void> {
  const lock = await acquireInstanceLock(agent.config.stateDir, DAEMON);
  let overlayWatch: OverlayWatch | null = null;
  let reporter: Reporter | null = null;
  let requestWatch: ReturnType<typeof watch> | null = null;
  let wake: (() => void) | null = null;
  let pendingWake = false;
  const poke = (): void => {
    pendingWake = true;
    wake?.();
  };
  opts.signal.addEventListener('abort', poke);
  try {
    const queue = requestsDir(agent.config.stateDir);
    await mkdir(queue, { recursive: true, mode: 0o700 });
    await clearStaleAnswers(agent.config.stateDir);
    requestWatch = watch(queue, { depth: 0, ignoreInitial: true });
    requestWatch.on('add', poke);
    await new Promise<void>((ready) => requestWatch!.once('ready', ready));
    const overlays = await watchOverlay(agent.config.overlay, (_overlay, error) => {
      if (error) opts.log('overlay-invalid', { file: agent.config.overlay, message: error.message });
      else opts.log('overlay-changed', { file: agent.config.overlay });
      poke();
    });
    overlayWatch = overlays;
    if (overlays.error()) opts.log('overlay-invalid', { file: agent.config.overlay, message: overlays.error()!.message });
    const agentId = await ensureAgentId(agent);
    const offset = pollOffsetMs(agentId, agent.config.channel.intervalMs);
    opts.log('start', { agentId, group: agent.config.group, channel: agent.config.channel.url, intervalMs: agent.config.channel.intervalMs, pollOffsetMs: offset });
    // Telemetry runs beside the cycles: they only queue events; no cycle awaits the controller.
    if (agent.config.controller) {
      reporter = createReporter(agent, { log: opts.log, overlay: () => overlays.current() });
      await queueReport(reporter, opts);
      if (!opts.once) reporter.start();
    }

    const services = await createApplyServices(agent, opts.log);
    for (const r of await recoverJournals(agent, applyEnvFor(agent, services, { overlay: overlays.current(), log: opts.log }))) {
      opts.log('recovered', { app: r.app, outcome: r.outcome, reason: r.reason });
    }
    let nextPoll = Date.now();
    while (!opts.signal.aborted) {
      const now = Date.now();
      const fetch = now >= nextPoll;
      pendingWake = false;
      let waits: readonly { until: string | null }[] = [];
      await serveRequests(agent, services, overlays.current(), opts);
      if (reporter) await queueReport(reporter, opts);
      try {
        const env = applyEnvFor(agent, services, { overlay: overlays.current(), log: opts.log, signal: opts.signal });
        const report = await reconcileOnce(agent, env, { fetch });
        waits = report.waits;
        opts.log('cycle', { commit: report.commit, changes: report.changes.length, waits: report.waits.length, refused: report.refusal?.reason ?? null });
      } catch (err) {
        const e = toDuckError(err);
        opts.log('cycle-failed', { code: e.code, message: e.message });
      }
      if (reporter) await queueReport(reporter, opts);
      if (fetch) nextPoll = nextPollAt(Date.now(), agent.config.channel.intervalMs, offset);
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
    await lock.release();
    opts.log('stop', {});
  }
}

/** A state write only: a failure to queue is logged and never stops the loop. */
async function queueReport(reporter: Reporter, opts: RunOptions): Promise<void> {
  try {
    await reporter.collect();
  } catch (err) {
    opts.log('report-queue-failed', { message: toDuckError(err).message });
  }
}

/** Operators' requests, oldest first, each answered (a refusal included) before the next. */
async function serveRequests(agent: Agent, services: ApplyServices, overlay: OverlayFile, opts: RunOptions): Promise<void> {
  for (const { id, request } of await takeRequests(agent.config.stateDir)) {
    opts.log('request', { id, ...request });
    const force = request.kind === 'upgrade' && request.force;
    const env = applyEnvFor(agent, services, { overlay, log: opts.log, force, signal: opts.signal });
    const result = await answerOf(() => executeRequest(agent, env, request));
    opts.log('request-done', { id, kind: request.kind, ok: result.ok, error: result.error?.message ?? null });
    await answerRequest(agent.config.stateDir, id, result);
  }
}
