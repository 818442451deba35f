import type { OperatorRequest, RequestResult } from '../core/operator-request.js';
import { perform } from '../node/session.js';
import type { NodeParts } from '../node/wiring.js';
import { createLogger, textLogLine } from './logger.js';
import { openNode } from './node-handle.js';
import type { Output } from './output.js';

/**
 * Runs an operator's request through the writer session (in-process, or handed to the running
 * duck run), prints its lines, and sets a non-zero exit code when the change did not end as applied.
 */
export async function runRequest(node: NodeParts, request: OperatorRequest, out: Output): Promise<RequestResult> {
  const { result } = await performFromCli(node, request);
  for (const line of result.lines) out.line(line);
  out.result({ ok: result.ok, changes: result.changes, ...(result.data ?? {}) });
  if (!result.ok) process.exitCode = 1;
  return result;
}

/**
 * The request through the writer session, with step lines on stderr (so --json keeps stdout one
 * document): this process's log, or, when duck run does it, the steps it logs as they come.
 * `handedOff` says the daemon did it: what this process read of the state is old then.
 */
export async function performFromCli(node: NodeParts, request: OperatorRequest, opts: { quiet?: boolean } = {}): Promise<{ result: RequestResult; handedOff: boolean }> {
  let handedOff = false;
  const result = await perform(node, request, {
    log: opts.quiet ? () => undefined : createLogger('text', process.stderr),
    onHandOff: (pid) => {
      handedOff = true;
      process.stderr.write(`duck run (pid ${pid}) holds this node's state: handed the request to it; waiting for it to finish\n`);
    },
    ...(opts.quiet
      ? {}
      : {
          onProgress: (record) => {
            // In process, the log above printed it already.
            if (handedOff) process.stderr.write(textLogLine(record.at, record.event, record.fields));
          },
        }),
  });
  return { result, handedOff };
}

/**
 * `duck verify`, `duck check` and `duck upgrade` start here: the channel fetched and verified now
 * by the writer, and the node as it left it (opened again when duck run did the work).
 */
export async function fetchNow(configFlag: string | undefined, opts: { allowReset?: boolean } = {}): Promise<{ node: NodeParts; fetched: RequestResult; byDaemon: boolean }> {
  const node = await openNode(configFlag);
  const { result, handedOff } = await performFromCli(node, { kind: 'fetch', ...(opts.allowReset ? { allowReset: true } : {}) }, { quiet: true });
  return { node: handedOff ? await openNode(configFlag) : node, fetched: result, byDaemon: handedOff };
}
