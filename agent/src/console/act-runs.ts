import { randomUUID } from 'node:crypto';
import { toDuckError } from '../../../schemas/errors.js';
import type { RequestResult } from '../core/operator-request.js';
import type { ProgressRecord } from '../core/request-progress.js';
import { MAX_PROGRESS_RECORDS } from '../core/request-progress.js';

/** What a page following an act hears: each step record (with its place in the run), then the result once. */
export interface ActListener {
  step(record: ProgressRecord, index: number): void;
  done(result: RequestResult): void;
}

interface Run {
  readonly records: ProgressRecord[];
  result: RequestResult | null;
  readonly listeners: Set<ActListener>;
}

/**
 * The acts a page asked to follow (`POST /api/acts?follow=1`), in memory: each run's step records
 * as they come and its result, so a page that connects late, or again, hears everything so far
 * first. Only the last few runs are kept: a page follows the act it just asked for.
 */
export class ActRuns {
  private readonly runs = new Map<string, Run>();

  constructor(private readonly keep = 20) {}

  /** Starts `act`, handing it the run's progress sink; answers the run's id at once. */
  start(act: (onProgress: (record: ProgressRecord) => void) => Promise<RequestResult>): string {
    const id = randomUUID();
    const run: Run = { records: [], result: null, listeners: new Set() };
    this.runs.set(id, run);
    for (const old of this.runs.keys()) {
      if (this.runs.size <= this.keep) break;
      if (this.runs.get(old)!.result) this.runs.delete(old);
    }
    const onProgress = (record: ProgressRecord): void => {
      if (run.result || run.records.length >= MAX_PROGRESS_RECORDS) return;
      run.records.push(record);
      for (const l of run.listeners) l.step(record, run.records.length - 1);
    };
    void act(onProgress)
      .catch((err: unknown): RequestResult => {
        const e = toDuckError(err);
        return { ok: false, lines: [], changes: [], error: { code: e.code, message: e.message } };
      })
      .then((result) => {
        run.result = result;
        for (const l of run.listeners) l.done(result);
        run.listeners.clear();
      });
    return id;
  }

  /**
   * Replays run `id`'s records from index `from`, then what comes, then the result. Returns the
   * way to stop listening, or null when no such run is kept.
   */
  follow(id: string, listener: ActListener, from = 0): (() => void) | null {
    const run = this.runs.get(id);
    if (!run) return null;
    run.records.slice(from).forEach((r, i) => listener.step(r, from + i));
    if (run.result) {
      listener.done(run.result);
      return () => undefined;
    }
    run.listeners.add(listener);
    return () => run.listeners.delete(listener);
  }
}
