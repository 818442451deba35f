import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckError } from '../../../schemas/errors.js';
import type { OperatorRequest, RequestResult } from '../core/operator-request.js';
import { isAlive } from './instance-lock.js';

/**
 * How an operator's command reaches a running `duck run`: the daemon is the only writer of the
 * state directory, so `duck upgrade` (or stop, restore...) drops a request file into
 * `<state>/requests/` and waits for the answer file the daemon writes after carrying it out.
 * Both files appear by rename, so neither side ever reads half of one.
 */

const REQUEST_SUFFIX = '.request.json';
const RESULT_SUFFIX = '.result.json';
const POLL_MS = 200;

interface QueuedRequest {
  readonly id: string;
  readonly submittedAt: string;
  readonly request: OperatorRequest;
}

export function requestsDir(stateDir: string): string {
  return join(stateDir, 'requests');
}

async function writeAtomically(file: string, value: unknown): Promise<void> {
  const temp = `${file}.tmp-${process.pid}`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, file);
}

/**
 * Hands `request` to the daemon with pid `daemonPid` and waits for its answer. `onQueued` runs
 * once the request is on disk (to tell the operator the daemon is doing it). If the daemon dies
 * first, the request is withdrawn and the error says so: nothing is left to run later by surprise.
 */
export async function submitRequest(stateDir: string, daemonPid: number, request: OperatorRequest, onQueued?: () => void): Promise<RequestResult> {
  const dir = requestsDir(stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const id = `${Date.now().toString().padStart(15, '0')}-${randomUUID()}`;
  const requestFile = join(dir, id + REQUEST_SUFFIX);
  const resultFile = join(dir, id + RESULT_SUFFIX);
  await writeAtomically(requestFile, { id, submittedAt: new Date().toISOString(), request } satisfies QueuedRequest);
  onQueued?.();
  for (;;) {
    const text = await readFile(resultFile, 'utf8').catch(() => null);
    if (text !== null) {
      await rm(resultFile, { force: true });
      return JSON.parse(text) as RequestResult;
    }
    if (!isAlive(daemonPid)) {
      // Taken but unanswered means the daemon died while carrying it out: its journal recovers that.
      const withdrawn = await rm(requestFile).then(
        () => true,
        () => false,
      );
      throw new DuckError(
        'locked',
        withdrawn
          ? `duck run (pid ${daemonPid}) stopped before taking the request; nothing was done: run the command again`
          : `duck run (pid ${daemonPid}) stopped while carrying out the request; its journal finishes or rolls back the change when it starts again (see duck history)`,
        { file: requestFile, pid: daemonPid },
      );
    }
    await sleep(POLL_MS);
  }
}

/** The requests waiting, oldest first; each is removed from the queue as it is taken. */
export async function takeRequests(stateDir: string): Promise<Array<{ id: string; request: OperatorRequest }>> {
  const dir = requestsDir(stateDir);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(REQUEST_SUFFIX)).sort();
  const taken: Array<{ id: string; request: OperatorRequest }> = [];
  for (const name of names) {
    const file = join(dir, name);
    const text = await readFile(file, 'utf8').catch(() => null);
    await rm(file, { force: true });
    if (text === null) continue;
    const id = name.slice(0, -REQUEST_SUFFIX.length);
    try {
      taken.push({ id, request: (JSON.parse(text) as QueuedRequest).request });
    } catch (err) {
      await answerRequest(stateDir, id, {
        ok: false,
        lines: [],
        changes: [],
        error: { code: 'usage', message: `${file}: unreadable request: ${(err as Error).message}` },
      });
    }
  }
  return taken;
}

export async function answerRequest(stateDir: string, id: string, result: RequestResult): Promise<void> {
  await writeAtomically(join(requestsDir(stateDir), id + RESULT_SUFFIX), result);
}

/** Answers left behind by a command that was interrupted while waiting are of no use to anyone. */
export async function clearStaleAnswers(stateDir: string): Promise<void> {
  const dir = requestsDir(stateDir);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.endsWith(RESULT_SUFFIX) || name.includes('.tmp-')) await rm(join(dir, name), { force: true });
  }
}
