import type { Agent } from '../agent.js';
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
