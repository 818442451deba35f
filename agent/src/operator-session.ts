import type { Agent } from './agent.js';
import { acquireInstanceLock, DAEMON, instanceHolder } from './adapters/instance-lock.js';
import { loadOverlay } from './adapters/overlay-file.js';
import { submitRequest } from './adapters/request-queue.js';
import type { Logger } from './apply/apply-env.js';
import { applyEnvFor, createApplyServices } from './apply-wiring.js';
import { DuckError, toDuckError } from '../../schemas/errors.js';
import type { OperatorRequest, RequestResult } from './core/operator-request.js';
import { executeRequest } from './operator-acts.js';

/**
 * Carries out an operator's request: in this process when nothing holds the state directory, or
 * by handing it to the running `duck run`, which is then the only writer of the state, the clone
 * and the stacks. Another command holding the lock is an error that names it.
 */
export async function performRequest(agent: Agent, request: OperatorRequest, opts: { log: Logger; onHandOff?: (pid: number) => void }): Promise<RequestResult> {
  const { stateDir } = agent.config;
  const holder = await instanceHolder(stateDir);
  if (holder && holder.what === DAEMON) {
    return submitRequest(stateDir, holder.pid, request, () => opts.onHandOff?.(holder.pid));
  }
  const lock = await acquireInstanceLock(stateDir, `duck ${request.kind}`);
  try {
    const services = await createApplyServices(agent, opts.log);
    const env = applyEnvFor(agent, services, { overlay: await loadOverlay(agent.config.overlay), log: opts.log, force: request.kind === 'upgrade' && request.force });
    return await executeRequest(agent, env, request);
  } finally {
    await lock.release();
  }
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
