import type { DownloadProgress } from '../apply/archive-download.js';
import type { Logger } from '../ports.js';

/** Off a terminal, a download in progress logs at most this often between its first and last line. */
export const PROGRESS_LOG_EVERY_MS = 30_000;

/**
 * Download progress as log lines when no terminal shows a bar: one when a download starts, one
 * when it ends, and between them at most one per PROGRESS_LOG_EVERY_MS, so a slow download
 * still shows it moves while a quick one costs two lines, not one per tenth.
 */
export function sparseProgressLog(log: Logger, app: string, now: () => number = Date.now): (p: DownloadProgress) => void {
  let url: string | null = null;
  let lastAt = -Infinity;
  let ended = false;
  return (p) => {
    const done = p.bytes >= p.total;
    const first = p.url !== url;
    if (first) {
      url = p.url;
      ended = false;
    }
    if (ended) return;
    const at = now();
    if (!first && !done && at - lastAt < PROGRESS_LOG_EVERY_MS) return;
    lastAt = at;
    ended = done;
    log('download', { app, url: p.url, bytes: p.bytes, total: p.total, ...(done ? { done: true } : {}) });
  };
}
