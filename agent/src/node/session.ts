import { randomUUID } from 'node:crypto';
import { DuckError, toDuckError } from '../../../schemas/errors.js';
import { acquireInstanceLock, DAEMON, instanceHolder } from '../adapters/instance-lock.js';
import { loadOverlay } from '../adapters/overlay-file.js';
import { submitRequest } from '../adapters/request-queue.js';
import type { ChangeResult } from '../apply/apply-change.js';
import { recoverChange } from '../apply/apply-change.js';
import type { ApplyEnv, ApplyServices } from '../apply/apply-env.js';
import type { JournalEntry } from '../core/agent-state.js';
import type { OperatorRequest, RequestResult } from '../core/operator-request.js';
import type { ProgressRecord } from '../core/request-progress.js';
import { progressRecordOf } from '../core/request-progress.js';
import type { OverlayFile } from '../../../schemas/index.js';
import type { Logger } from '../ports.js';
import { carryOut } from './acts.js';
import type { CycleOutcome } from './cycle.js';
import { agentIdOf } from './decisions.js';
import { ensureEnrolled } from './telemetry.js';
import type { NodeParts } from './wiring.js';

/**
 * The writer session: the one owner of the single-writer rule (DESIGN §4.11), as balena's state
 * applicator owns its exclusion rule. Its invariants:
 *
 *  1. One writer per state directory: `duck run`, or one command holding the instance lock
 *     (`<state>/agent.pid`). Nothing else writes the state, the clone or the stacks.
 *  2. A command that fetches or writes while `duck run` holds the lock hands its request to the
 *     daemon (`<state>/requests/`) and writes nothing itself — `duck verify` and `duck check` too.
 *  3. A writer first finishes what a killed agent left in the journal, and clears the backups it
 *     left unfinished, before anything else runs.
 *  4. Inside a writer, requests and cycles run one at a time: no two changes overlap.
 *  5. Every Docker mutation is a planned change run by the journalled applyChange: the session
 *     and the acts only hand plans on.
 */
export interface Writer {
  /** The agent id, made once and kept in the state (the rollout bucket and the controller know the node by it). */
  readonly agentId: string;
  carryOut(request: OperatorRequest, opts: CarryOutOptions): Promise<RequestResult>;
  /** What the daemon's cycles apply with (compose detected once per writer). */
  env(opts: { overlay: OverlayFile; log: Logger; signal?: AbortSignal; force?: boolean }): Promise<ApplyEnv>;
  release(): Promise<void>;
}

export interface CarryOutOptions {
  readonly overlay: OverlayFile;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  readonly report?: (outcome: CycleOutcome) => Promise<void>;
}

/**
 * Takes the state directory as its one writer (`what` names the holder for other commands), then
 * recovers the journals. Throws `locked` naming the holder when another process has it.
 */
export async function openWriter(node: NodeParts, what: string, log: Logger): Promise<Writer> {
  const lock = await acquireInstanceLock(node.config.stateDir, what);
  try {
    const agentId = await ensureAgentId(node);
    // Compose is detected when a change needs it (`duck verify` works on a node whose engine is
    // down), once per writer; a failed detection is tried again by the next change.
    let services: Promise<ApplyServices> | null = null;
    const servicesFor = (l: Logger): Promise<ApplyServices> =>
      (services ??= node.applyServices(l).catch((err: unknown) => {
        services = null;
        throw err;
      }));
    for (const r of await recoverJournals(node, servicesFor, log)) log('recovered', { app: r.app, outcome: r.outcome, reason: r.reason });
    const envFor: Writer['env'] = async (o) => node.applyEnv(await servicesFor(o.log), o);
    return {
      agentId,
      env: envFor,
      carryOut: async (request, opts) => {
        if (request.kind === 'enroll') return enroll(node, agentId, opts.log);
        const force = request.kind === 'upgrade' && request.force;
        const env = () => envFor({ overlay: opts.overlay, log: opts.log, force, ...(opts.signal ? { signal: opts.signal } : {}) });
        return carryOut({ node, log: opts.log, overlay: opts.overlay, env, ...(opts.report ? { report: opts.report } : {}) }, request);
      },
      release: () => lock.release(),
    };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

export interface PerformOptions {
  readonly log: Logger;
  readonly onHandOff?: (pid: number) => void;
  /**
   * The request's step records as the writer logs them: from the daemon's progress file when it
   * was handed to duck run, from this process's Logger otherwise (the same records either way).
   */
  readonly onProgress?: (record: ProgressRecord) => void;
}

/**
 * Carries out an operator's request: in this process when nothing holds the state directory, or
 * by handing it to the running `duck run`. Another command holding the lock is an error naming it.
 */
export async function perform(node: NodeParts, request: OperatorRequest, opts: PerformOptions): Promise<RequestResult> {
  const { stateDir } = node.config;
  const holder = await instanceHolder(stateDir);
  if (holder && holder.what === DAEMON) {
    return throwIfFailed(
      await submitRequest(stateDir, holder.pid, request, {
        onQueued: () => opts.onHandOff?.(holder.pid),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      }),
    );
  }
  const log = opts.onProgress ? withProgress(opts.log, opts.onProgress) : opts.log;
  const writer = await openWriter(node, `duck ${request.kind}`, log);
  try {
    return await writer.carryOut(request, { overlay: await loadOverlay(node.config.overlay), log });
  } finally {
    await writer.release();
  }
}

/** `log`, and each step record of what it logs passed to `onRecord` (the daemon's progress file, a waiting page). */
export function withProgress(log: Logger, onRecord: (record: ProgressRecord) => void): Logger {
  return (event, fields) => {
    log(event, fields);
    const record = progressRecordOf(event, fields, new Date());
    if (record) onRecord(record);
  };
}

/** The pid of the running `duck run`, if one holds the state directory. */
export async function daemonPid(stateDir: string): Promise<number | null> {
  const holder = await instanceHolder(stateDir);
  return holder && holder.what === DAEMON ? holder.pid : null;
}

/** The daemon's side: a refusal becomes an answer the waiting command turns back into the error. */
export async function answerOf(run: () => Promise<RequestResult>): Promise<RequestResult> {
  try {
    return await run();
  } catch (err) {
    const e = toDuckError(err);
    return { ok: false, lines: [], changes: [], error: { code: e.code, message: e.message } };
  }
}

/** A result that carries an error is thrown as that error, so the CLI's exit code follows it. */
export function throwIfFailed(result: RequestResult): RequestResult {
  if (result.error) throw new DuckError(result.error.code, result.error.message);
  return result;
}

/** Finish what a killed agent left in its journal before anything else runs (invariant 3). */
async function recoverJournals(node: NodeParts, services: (log: Logger) => Promise<ApplyServices>, log: Logger): Promise<ChangeResult[]> {
  const partial = await node.backups.cleanPartial().catch(() => []);
  if (partial.length > 0) log('backups-cleaned', { partial });
  const journals = Object.values(node.state.read().journal);
  if (journals.length === 0) return [];
  // A bad overlay must not keep a half-done change from finishing: recovery runs without overrides then.
  const overlay = await loadOverlay(node.config.overlay).catch(() => ({}));
  const env = node.applyEnv(await services(log), { overlay, log });
  const results: ChangeResult[] = [];
  for (const journal of journals) results.push(await recoverChange(env, structuredClone(journal) as JournalEntry));
  return results;
}

/** The agent id from the config, or a UUID made once and kept in the state. */
async function ensureAgentId(node: NodeParts): Promise<string> {
  const known = agentIdOf(node.config, node.state.read());
  if (known) return known;
  const id = randomUUID();
  await node.state.update((s) => {
    s.agentId = id;
  });
  return id;
}

/** `duck diagnostics --upload` before the node enrolled: the writer enrolls it. */
async function enroll(node: NodeParts, agentId: string, log: Logger): Promise<RequestResult> {
  const enrollment = await ensureEnrolled(node, agentId, { log });
  return { ok: true, lines: [`enrolled with ${enrollment.url} as ${enrollment.agentId}`], changes: [] };
}
