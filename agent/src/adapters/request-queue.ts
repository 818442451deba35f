import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckError } from '../../../schemas/errors.js';
import type { OperatorRequest, RequestResult } from '../core/operator-request.js';
import type { ProgressRecord } from '../core/request-progress.js';
import { MAX_PROGRESS_RECORDS, parseProgressLines, progressLine } from '../core/request-progress.js';
import { isAlive } from './instance-lock.js';

/**
 * How an operator's command reaches a running `duck run`: the daemon is the only writer of the
 * state directory, so `duck upgrade` (or stop, restore...) drops a request file into
 * `<state>/requests/` and waits for the answer file the daemon writes after carrying it out.
 * Both files appear by rename, so neither side ever reads half of one. While the daemon carries a
 * request out it appends the request's step records to a third file beside them (JSON lines,
 * core/request-progress), which the waiting side reads as it grows.
 */

const REQUEST_SUFFIX = '.request.json';
const RESULT_SUFFIX = '.result.json';
const PROGRESS_SUFFIX = '.progress.jsonl';
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

export interface SubmitOptions {
  /** Runs once the request is on disk (to tell the operator the daemon is doing it). */
  readonly onQueued?: () => void;
  /** Each step record the daemon logs while carrying the request out, in order, as it comes. */
  readonly onProgress?: (record: ProgressRecord) => void;
}

/**
 * Hands `request` to the daemon with pid `daemonPid` and waits for its answer, passing on its step
 * records as they come. If the daemon dies first, the request is withdrawn and the error says so:
 * nothing is left to run later by surprise.
 */
export async function submitRequest(stateDir: string, daemonPid: number, request: OperatorRequest, opts: SubmitOptions = {}): Promise<RequestResult> {
  const dir = requestsDir(stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const id = `${Date.now().toString().padStart(15, '0')}-${randomUUID()}`;
  const requestFile = join(dir, id + REQUEST_SUFFIX);
  const resultFile = join(dir, id + RESULT_SUFFIX);
  const progressFile = join(dir, id + PROGRESS_SUFFIX);
  let progressAt = 0;
  const passProgress = async (): Promise<void> => {
    if (!opts.onProgress) return;
    const { records, next } = await readRecordsFrom(progressFile, progressAt);
    progressAt = next;
    for (const record of records) opts.onProgress(record);
  };
  await writeAtomically(requestFile, { id, submittedAt: new Date().toISOString(), request } satisfies QueuedRequest);
  opts.onQueued?.();
  try {
    for (;;) {
      const text = await readFile(resultFile, 'utf8').catch(() => null);
      // The daemon finished the progress file before it wrote the answer: read to its end first.
      await passProgress();
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
  } finally {
    await rm(progressFile, { force: true });
  }
}

/** The whole lines appended to `file` since byte `from` (a line still being written waits for the next read). */
async function readRecordsFrom(file: string, from: number): Promise<{ records: ProgressRecord[]; next: number }> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return { records: [], next: from };
  try {
    const { size } = await handle.stat();
    if (size <= from) return { records: [], next: from };
    const buffer = Buffer.alloc(size - from);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
    const end = buffer.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (end < 0) return { records: [], next: from };
    return { records: parseProgressLines(buffer.subarray(0, end + 1).toString('utf8')).records, next: from + end + 1 };
  } finally {
    await handle.close();
  }
}

/** The daemon's side: the step records of request `id`, appended in order beside it, bounded. */
export interface ProgressAppender {
  add(record: ProgressRecord): void;
  /** Resolves once every record added is in the file: call it before answering the request. */
  flushed(): Promise<void>;
}

export function progressAppender(stateDir: string, id: string): ProgressAppender {
  const file = join(requestsDir(stateDir), id + PROGRESS_SUFFIX);
  let added = 0;
  let chain: Promise<void> = Promise.resolve();
  return {
    add: (record) => {
      if (added++ >= MAX_PROGRESS_RECORDS) return;
      // Progress is for the operator's eyes: a failed append must not fail the request.
      chain = chain.then(() => appendFile(file, progressLine(record), { mode: 0o600 })).catch(() => undefined);
    },
    flushed: () => chain,
  };
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

/** Answers and progress left behind by a command that was interrupted while waiting are of no use to anyone. */
export async function clearStaleAnswers(stateDir: string): Promise<void> {
  const dir = requestsDir(stateDir);
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.endsWith(RESULT_SUFFIX) || name.endsWith(PROGRESS_SUFFIX) || name.includes('.tmp-')) await rm(join(dir, name), { force: true });
  }
}
