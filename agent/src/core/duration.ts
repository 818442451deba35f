import { durationMs } from '../../../schemas/duration.js';
import { DuckError } from '../../../schemas/errors.js';

/** "7d", "90s", "1h30m" -> milliseconds. The schemas admit only this form, so a mismatch is a bug upstream. */
export function parseDuration(text: string, where: { file?: string; field?: string } = {}): number {
  const ms = durationMs(text);
  if (ms === null) {
    throw new DuckError('invalid', `${where.file ?? ''}${where.field ? `: ${where.field}` : ''}: "${text}" is not a duration like 60s, 3h or 7d`, where);
  }
  return ms;
}

export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)}ms`;
  if (abs < 60_000) return `${(ms / 1000).toFixed(abs < 10_000 ? 1 : 0)}s`;
  if (abs < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  if (abs < 2 * 86_400_000) return `${Math.round(ms / 3_600_000)}h`;
  return `${Math.round(ms / 86_400_000)}d`;
}
