// A deterministic simulation of a fleet polling its channel (issue 17 §4): a fake clock in whole
// milliseconds, seeded randomness, and Duck's own schedule and back-off code — pollOffsetMs and
// nextPollAt (core/poll-schedule), pointerVerdict (core/pointer-policy), fetchRetryAt
// (core/fetch-retry) — so the figures are what the agent's rules make of the load, not a model's.
import { fetchRetryAt } from '../../agent/src/core/fetch-retry.js';
import { pointerVerdict, safetyNetDue } from '../../agent/src/core/pointer-policy.js';
import { nextPollAt, pollOffsetMs } from '../../agent/src/core/poll-schedule.js';
import { mulberry32 } from '../../test/helpers/seeded-random.js';

/** What one request costs the server that answers it (bytes sent), calibrated against a real run. */
export interface RequestCosts {
  /** The ref advertisement (GET info/refs) of a small channel. */
  readonly refBytes: number;
  /** The pack of one release commit (POST git-upload-pack). */
  readonly packBytes: number;
  /** A 429 answer. */
  readonly throttledBytes: number;
  /** The pointer (its 200 answer; the CDN's, not the git host's). */
  readonly pointerBytes: number;
}

export interface Scenario {
  readonly name: string;
  readonly nodes: number;
  readonly intervalMs: number;
  readonly durationMs: number;
  /** Whether agent.yaml has channel.pointer. */
  readonly pointer: boolean;
  /** When the channel's tip moves (ms from the start). */
  readonly releasesAt: readonly number[];
  /** A window in which the git host answers every request 429, with this Retry-After (or none). */
  readonly throttle?: { readonly fromMs: number; readonly toMs: number; readonly retryAfter?: string };
  /** A window in which the pointer cannot be read (a dead CDN). */
  readonly pointerDown?: { readonly fromMs: number; readonly toMs: number };
  readonly seed: number;
}

export interface Figures {
  readonly scenario: string;
  /** Requests to the git host: mean per second, the busiest second, the busiest minute. */
  readonly gitMeanPerSecond: number;
  readonly gitPeakSecond: number;
  readonly gitPeakMinute: number;
  /** Bytes the git host sent: in all, and per second on average. */
  readonly gitBytes: number;
  readonly gitMeanBytesPerSecond: number;
  /** Requests to the pointer's server (a CDN), mean per second. */
  readonly pointerMeanPerSecond: number;
  /** Nodes holding the last release at the end. */
  readonly upToDate: number;
  /** With a throttle: git requests per second while it lasts, and the busiest minute of the hour after it. */
  readonly throttled?: { readonly meanPerSecond: number; readonly peakMinuteAfter: number };
}

/**
 * Runs one scenario. Each node polls at its own offset on the interval grid; with a pointer, each
 * process's next safety-net ask is due at a seeded moment of the first hour (a fleet in its steady
 * state, not one that starts together). Polls are events in one-second buckets; order within a second does not
 * change the counts.
 */
export function simulate(s: Scenario, costs: RequestCosts): Figures {
  const seconds = Math.ceil(s.durationMs / 1000);
  const gitPerSecond = new Float64Array(seconds);
  let gitBytes = 0;
  let pointerRequests = 0;
  const random = mulberry32(s.seed);
  const ids = Array.from({ length: s.nodes }, (_, i) => `node-${i}`);
  const offsets = ids.map((id) => pollOffsetMs(id, s.intervalMs));
  const fallbackAt = new Float64Array(s.nodes).fill(Number.NaN);
  const spread = new Float64Array(s.nodes).map(() => random());
  // The fleet in its steady state: each process's next safety-net ask falls anywhere in the first hour.
  const gitAskedAt = spread.map((share) => Math.floor(random() * 3_600_000) - safetyNetDue(0, share));
  const failures = new Int32Array(s.nodes);
  // Every node holds the tip that was current at the start (release 0).
  const held = new Int32Array(s.nodes);
  const buckets: number[][] = Array.from({ length: seconds }, () => []);
  const schedule = (node: number, at: number): void => {
    const second = Math.floor(at / 1000);
    if (second < seconds) buckets[second]!.push(node);
  };
  for (let n = 0; n < s.nodes; n++) schedule(n, nextPollAt(-1, s.intervalMs, offsets[n]!));

  const tipAt = (t: number): number => {
    let tip = 0;
    for (const at of s.releasesAt) if (at <= t) tip++;
    return tip;
  };
  const throttled = (t: number): boolean => s.throttle !== undefined && t >= s.throttle.fromMs && t < s.throttle.toMs;
  const gitRequest = (t: number, bytes: number): void => {
    gitPerSecond[Math.floor(t / 1000)]!++;
    gitBytes += bytes;
  };

  for (let second = 0; second < seconds; second++) {
    const due = buckets[second]!;
    buckets[second] = [];
    for (const n of due) {
      // Within its second, a node polls at its own millisecond.
      const t = second * 1000 + (offsets[n]! % 1000);
      const tip = tipAt(t);
      const next = nextPollAt(t, s.intervalMs, offsets[n]!);
      if (s.pointer) {
        pointerRequests++;
        const down = s.pointerDown !== undefined && t >= s.pointerDown.fromMs && t < s.pointerDown.toMs;
        const lastFallback = Number.isNaN(fallbackAt[n]!) ? null : fallbackAt[n]!;
        const verdict = pointerVerdict({ now: t, named: down ? null : String(tip), held: !down && held[n] === tip, gitAskedAt: gitAskedAt[n]!, fallbackAt: lastFallback, spread: spread[n]! });
        if (verdict.ask !== 'git') {
          schedule(n, next);
          continue;
        }
        if (verdict.why === 'fallback') fallbackAt[n] = t;
        gitAskedAt[n] = t;
      }
      if (throttled(t)) {
        gitRequest(t, costs.throttledBytes);
        failures[n]!++;
        const retryAfter = s.throttle?.retryAfter;
        const throttle = { status: 429, ...(retryAfter ? { retryAfter } : {}) };
        schedule(n, fetchRetryAt({ now: t, nextPoll: next, intervalMs: s.intervalMs, failures: failures[n]!, throttle, agentId: ids[n]! }));
        continue;
      }
      failures[n] = 0;
      gitRequest(t, costs.refBytes);
      if (held[n] !== tip) {
        gitRequest(t, costs.packBytes);
        held[n] = tip;
      }
      schedule(n, next);
    }
  }

  const last = tipAt(s.durationMs);
  const total = gitPerSecond.reduce((a, b) => a + b, 0);
  const window = s.throttle ? { from: Math.floor(s.throttle.fromMs / 1000), to: Math.floor(s.throttle.toMs / 1000) } : null;
  return {
    scenario: s.name,
    gitMeanPerSecond: total / seconds,
    gitPeakSecond: Math.max(...gitPerSecond),
    gitPeakMinute: busiestMinute(gitPerSecond, 0, seconds),
    gitBytes,
    gitMeanBytesPerSecond: gitBytes / seconds,
    pointerMeanPerSecond: pointerRequests / seconds,
    upToDate: held.reduce((a, h) => a + (h === last ? 1 : 0), 0),
    ...(window
      ? {
          throttled: {
            meanPerSecond: gitPerSecond.slice(window.from, window.to).reduce((a, b) => a + b, 0) / (window.to - window.from),
            peakMinuteAfter: busiestMinute(gitPerSecond, window.to, Math.min(seconds, window.to + 3600)),
          },
        }
      : {}),
  };
}

/** The most requests in any 60 consecutive seconds within [from, to). */
function busiestMinute(perSecond: Float64Array, from: number, to: number): number {
  let sum = 0;
  let most = 0;
  for (let i = from; i < to; i++) {
    sum += perSecond[i]!;
    if (i - from >= 60) sum -= perSecond[i - 60]!;
    most = Math.max(most, sum);
  }
  return most;
}
