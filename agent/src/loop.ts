import type { Agent } from './agent.js';
import { acquireInstanceLock } from './adapters/instance-lock.js';
import type { OverlayWatch } from './adapters/overlay-file.js';
import { watchOverlay } from './adapters/overlay-file.js';
import type { Logger } from './apply/apply-env.js';
import { applyEnvFor, createApplyServices } from './apply-wiring.js';
import { earliestUntil, nextPollAt, pollOffsetMs } from './core/poll-schedule.js';
import { toDuckError } from './core/errors.js';
import { ensureAgentId } from './desired-state.js';
import { recoverJournals, reconcileOnce } from './reconcile.js';

export interface RunOptions {
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** One cycle, then return (tests and cron-style use). */
  readonly once?: boolean;
}

/**
 * `duck run` (DESIGN §4.5): fetch every interval at this node's stable offset, re-plan at once on
 * an overlay change, wake for schedules and windows on time. Wake-ups that arrive during a cycle
 * fold into one follow-up cycle. SIGTERM ends the loop between changes.
 */
export async function runAgent(agent: Agent, opts: RunOptions): Promise<void> {
  const lock = await acquireInstanceLock(agent.config.stateDir, 'duck run');
  let watch: OverlayWatch | null = null;
  let wake: (() => void) | null = null;
  let pendingWake = false;
  const poke = (): void => {
    pendingWake = true;
    wake?.();
  };
  opts.signal.addEventListener('abort', poke);
  try {
    watch = await watchOverlay(agent.config.overlay, (_overlay, error) => {
      if (error) opts.log('overlay-invalid', { file: agent.config.overlay, message: error.message });
      else opts.log('overlay-changed', { file: agent.config.overlay });
      poke();
    });
    if (watch.error()) opts.log('overlay-invalid', { file: agent.config.overlay, message: watch.error()!.message });
    const agentId = await ensureAgentId(agent);
    const offset = pollOffsetMs(agentId, agent.config.channel.intervalMs);
    opts.log('start', { agentId, group: agent.config.group, channel: agent.config.channel.url, intervalMs: agent.config.channel.intervalMs, pollOffsetMs: offset });

    const services = await createApplyServices(agent, opts.log);
    for (const r of await recoverJournals(agent, applyEnvFor(agent, services, { overlay: watch.current(), log: opts.log }))) {
      opts.log('recovered', { app: r.app, outcome: r.outcome, reason: r.reason });
    }
    let nextPoll = Date.now();
    while (!opts.signal.aborted) {
      const now = Date.now();
      const fetch = now >= nextPoll;
      pendingWake = false;
      let waits: readonly { until: string | null }[] = [];
      try {
        const env = applyEnvFor(agent, services, { overlay: watch.current(), log: opts.log });
        const report = await reconcileOnce(agent, env, { fetch });
        waits = report.waits;
        opts.log('cycle', { commit: report.commit, changes: report.changes.length, waits: report.waits.length, refused: report.refusal?.reason ?? null });
      } catch (err) {
        const e = toDuckError(err);
        opts.log('cycle-failed', { code: e.code, message: e.message });
      }
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
    opts.signal.removeEventListener('abort', poke);
    await watch?.close();
    await lock.release();
    opts.log('stop', {});
  }
}
