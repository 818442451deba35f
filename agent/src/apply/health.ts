/**
 * Waiting for a started version to be healthy (DESIGN §4.3 step 5): first every container running
 * and, where compose declares a healthcheck, healthy; then every release probe passing. A state
 * waiting cannot cure (a container exited, a healthcheck failed) ends the wait at once so the
 * rollback starts early; otherwise the wait ends at the timeout, never later, and on an abort.
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Probe } from '../../../schemas/index.js';
import { formatDuration } from '../core/duration.js';
import { DuckError } from '../../../schemas/errors.js';
import { servicesVerdict } from '../core/health-verdict.js';
import { engineUnreachable, isEngineUnreachable, saysDockerClientUnreachable } from '../core/engine-fault.js';
import type { ComposeRuntime } from '../ports.js';
import { waitOutEngine } from './engine-wait.js';
import type { ExecInService } from './probes.js';
import { probeLabel, probeTimeoutMs, runProbe } from './probes.js';

const run = promisify(execFile);
const DEFAULT_POLL_MS = 500;
/** A probe command's output is for an error message: more than this is noise. */
const EXEC_MAX_BUFFER = 1024 * 1024;
/** What coreutils `timeout` exits with, so a timed-out probe command reads as one. */
const EXEC_TIMED_OUT = 124;

export interface AwaitHealthyOptions {
  runtime: ComposeRuntime;
  project: string;
  /** Names the wait in messages and error data; the project when absent. */
  app?: string;
  /** Services that must have a container (the compose file's); without it, whatever `ps` shows. */
  expectedServices?: string[];
  probes: Probe[];
  timeoutMs: number;
  exec: ExecInService;
  pollMs?: number;
  signal?: AbortSignal;
  /** Milliseconds since some epoch; Date.now when absent. */
  clock?: () => number;
  /** One line per change of what is awaited ("service web: health starting"), not one per poll. */
  onProgress?: (line: string) => void;
  /**
   * How long one Docker outage is waited out (apply.engineWait); the time it lasts does not count
   * against `timeoutMs`, because an engine that does not answer says nothing about the release.
   */
  engineWaitMs?: number;
}

/** What was last seen not yet healthy, for the timeout's message. */
type Awaited = { service?: string; probe?: string; state: string };

const PS_TIMED_OUT = Symbol('ps timed out');
const NOT_CHECKED = 'not checked yet';

/**
 * Resolves with the time it took once the project is healthy and every probe has passed once.
 * Throws DuckError `unhealthy` (data: app, project, service or probe, lastState, ms) on a hard
 * failure or at the timeout; throws the signal's reason on an abort; a `ps` that fails throws as is.
 * An engine that does not answer is waited out for up to `engineWaitMs`, the deadline moved by as
 * long; past that the engine's error is thrown, never `unhealthy`.
 */
export async function awaitHealthy(opts: AwaitHealthyOptions): Promise<{ ms: number }> {
  const { runtime, project, signal } = opts;
  const clock = opts.clock ?? Date.now;
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  const who = opts.app ?? project;
  const started = clock();
  let deadline = started + opts.timeoutMs;
  const passed = new Set<number>();
  const fullResults = new Map<number, string>();
  const lastLines = new Map<string, string>();
  const progress = (key: string, line: string): void => {
    if (lastLines.get(key) === line) return;
    lastLines.set(key, line);
    opts.onProgress?.(line);
  };
  const fail = (message: string, awaited: Awaited): DuckError =>
    new DuckError('unhealthy', `${who}: ${message}`, {
      ...(opts.app === undefined ? {} : { app: opts.app }),
      project,
      ...(awaited.service === undefined ? {} : { service: awaited.service }),
      ...(awaited.probe === undefined ? {} : { probe: awaited.probe }),
      lastState: awaited.state,
      ms: clock() - started,
    });

  let awaited: Awaited = { state: NOT_CHECKED };
  /** The engine stopped answering: wait until it does again (bounded), then go on with as much time as was left. */
  const outage = async (err: unknown): Promise<void> => {
    if (!isEngineUnreachable(err)) throw err;
    progress('engine', `the Docker engine does not answer; waiting up to ${formatDuration(opts.engineWaitMs ?? 0)} for it`);
    const lost = clock();
    await waitOutEngine(() => runtime.ps(project), { maxMs: opts.engineWaitMs ?? 0, signal: signal ?? null }).catch((again: unknown) => {
      throw isEngineUnreachable(again) ? again : err;
    });
    deadline += clock() - lost;
    progress('engine', 'the Docker engine answers again');
  };
  for (;;) {
    signal?.throwIfAborted();
    const services = await beforeDeadline(runtime.ps(project), deadline - clock()).catch(async (err: unknown) => {
      await outage(err);
      return null;
    });
    if (services === null) continue;
    if (services === PS_TIMED_OUT) {
      // Cut off by the deadline: what was seen before says more, unless nothing was.
      if (awaited.state === NOT_CHECKED) awaited = { state: 'docker did not answer ps in time' };
    } else {
      const verdict = servicesVerdict(services, opts.expectedServices);
      if (verdict.kind === 'failed') {
        progress('services', verdict.why);
        throw fail(verdict.why, { service: verdict.service, state: verdict.state });
      }
      if (verdict.kind === 'pending') {
        progress('services', verdict.why);
        awaited = { ...(verdict.service === undefined ? {} : { service: verdict.service }), state: verdict.state ?? verdict.why };
      } else {
        progress('services', 'all services running and healthy');
        const failing = await runPendingProbes(opts.probes, passed, fullResults, { ...opts, deadline, clock, progress }).catch(async (err: unknown) => {
          await outage(err);
          return undefined;
        });
        if (failing === undefined) continue;
        if (failing === null) return { ms: clock() - started };
        awaited = failing;
      }
    }
    const remaining = deadline - clock();
    if (remaining <= 0) throw fail(timeoutMessage(awaited, opts.timeoutMs), awaited);
    await pause(Math.min(pollMs, remaining), signal);
  }
}

/**
 * Runs the probes not yet passed, side by side; null when all have passed, else the first failing.
 * `full` keeps each probe's last result from an attempt the deadline did not cut short: the final
 * attempt, squeezed into the last milliseconds, says less ("no answer within 3ms") than the one before.
 */
async function runPendingProbes(
  probes: Probe[],
  passed: Set<number>,
  full: Map<number, string>,
  ctx: { exec: ExecInService; signal?: AbortSignal; deadline: number; clock: () => number; progress: (key: string, line: string) => void },
): Promise<Awaited | null> {
  const pending = probes.map((probe, index) => ({ probe, index })).filter(({ index }) => !passed.has(index));
  const maxTimeoutMs = ctx.deadline - ctx.clock();
  const results = await Promise.all(
    pending.map(async ({ probe, index }) => {
      const result = await runProbe(probe, { exec: ctx.exec, maxTimeoutMs, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      const label = probeLabel(probe);
      ctx.progress(`probe ${index}`, `probe ${label}: ${result.ok ? 'ok' : 'failing'} (${result.detail})`);
      if (result.ok) passed.add(index);
      const cut = maxTimeoutMs < probeTimeoutMs(probe);
      if (!cut || !full.has(index)) full.set(index, result.detail);
      return { label, index, result };
    }),
  );
  const failing = results.find(({ result }) => !result.ok);
  return failing === undefined ? null : { probe: failing.label, state: full.get(failing.index) ?? failing.result.detail };
}

function timeoutMessage(awaited: Awaited, timeoutMs: number): string {
  const after = formatDuration(timeoutMs);
  if (awaited.probe !== undefined) return `probe ${awaited.probe} failed after ${after} (last: ${awaited.state})`;
  if (awaited.service !== undefined) return `service ${awaited.service} is unhealthy after ${after} (last: ${awaited.state})`;
  return `not healthy after ${after} (last: ${awaited.state})`;
}

/** The wait must end at its deadline even when `docker inspect` hangs. */
async function beforeDeadline<T>(work: Promise<T>, ms: number): Promise<T | typeof PS_TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expiry = new Promise<typeof PS_TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(PS_TIMED_OUT), Math.max(0, ms));
  });
  try {
    return await Promise.race([work, expiry]);
  } finally {
    clearTimeout(timer);
  }
}

/** timers/promises rejects an abort with its own AbortError; the caller's reason is what callers test. */
async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    signal?.throwIfAborted();
    throw err;
  }
}

/**
 * `docker exec <container> argv…`, for command probes. The timeout kills the docker client, not the
 * process in the container: a hung probe command is left for Docker to reap with its container.
 */
export function dockerExec(containerIdFor: (service: string) => Promise<string>, docker = 'docker'): ExecInService {
  return async (service, argv, timeoutMs) => {
    const id = await containerIdFor(service);
    // The docker client exits 0 when it is terminated, so whether the timeout fired is what tells
    // a cut-off probe from a passing one, never the exit code.
    const timeout = AbortSignal.timeout(timeoutMs);
    const timedOut = { code: EXEC_TIMED_OUT, output: `no exit within ${formatDuration(timeoutMs)}` };
    try {
      const { stdout, stderr } = await run(docker, ['exec', id, ...argv], { signal: timeout, maxBuffer: EXEC_MAX_BUFFER });
      return timeout.aborted ? timedOut : { code: 0, output: stdout + stderr };
    } catch (err) {
      if (timeout.aborted) return timedOut;
      const e = err as { code?: unknown; stdout?: string; stderr?: string };
      // A number is the command's (or docker's 125-127) exit code: an answer, not an error —
      // unless the docker client says the engine itself did not answer.
      if (typeof e.code === 'number' && saysDockerClientUnreachable(e.stderr ?? '')) throw engineUnreachable(`docker exec ${service}`, e.stderr ?? '', err);
      if (typeof e.code === 'number') return { code: e.code, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
      throw err;
    }
  };
}
