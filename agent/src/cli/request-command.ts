import type { Agent } from '../agent.js';
import { openAgent } from '../agent.js';
import { DuckError } from '../../../schemas/errors.js';
import type { AcceptedView } from '../desired-state.js';
import { readAcceptedLocally } from '../desired-state.js';
import type { OperatorRequest, RequestResult } from '../core/operator-request.js';
import { performRequest, throwIfFailed } from '../operator-session.js';
import { createLogger } from './logger.js';
import type { Output } from './output.js';

/**
 * Runs an operator's request (in-process, or through the running duck run), prints its lines,
 * and sets a non-zero exit code when the change did not end as applied.
 */
export async function runRequest(agent: Agent, request: OperatorRequest, out: Output): Promise<RequestResult> {
  const result = throwIfFailed(
    await performRequest(agent, request, {
      // Step lines go to stderr, so --json keeps stdout one document.
      log: createLogger('text', process.stderr),
      onHandOff: handOffNotice,
    }),
  );
  for (const line of result.lines) out.line(line);
  out.result({ ok: result.ok, changes: result.changes, ...(result.data ?? {}) });
  if (!result.ok) process.exitCode = 1;
  return result;
}

export function handOffNotice(pid: number): void {
  process.stderr.write(`duck run (pid ${pid}) holds this node's state: handed the request to it; waiting for it to finish\n`);
}

/**
 * With duck run holding the state directory it is the one that fetches: it fetches now, and the
 * plan is read from what it accepted, through the state as it left it (not as this process read it).
 */
export async function fetchThroughDaemon(config: string, agent: Agent, pid: number): Promise<{ agent: Agent; view: AcceptedView; fetched: RequestResult }> {
  const fetched = throwIfFailed(await performRequest(agent, { kind: 'fetch' }, { log: () => undefined, onHandOff: handOffNotice }));
  const fresh = await openAgent(config);
  const view = await readAcceptedLocally(fresh);
  if (!view) throw new DuckError('not-found', `duck run (pid ${pid}) has not accepted a channel commit yet`);
  return { agent: fresh, view, fetched };
}
