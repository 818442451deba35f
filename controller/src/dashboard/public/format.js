// How values read on the page: states and outcomes with their labels, times, sizes.

/** Worst first, as the controller ranks them; an agent is in its worst state. */
export const STATES = ['failed', 'refused', 'unreachable', 'stale', 'offline', 'updating', 'waiting', 'ok'];

export const STATE_LABELS = {
  failed: 'Failed',
  refused: 'Channel refused',
  unreachable: 'Channel unreachable',
  stale: 'Stale',
  offline: 'Offline',
  updating: 'Updating',
  waiting: 'Waiting',
  ok: 'OK',
};

export const OUTCOME_LABELS = {
  applied: 'applied',
  'rolled-back': 'rolled back',
  'rollback-failed': 'rollback failed',
  deferred: 'deferred',
  failed: 'failed',
  interrupted: 'interrupted',
};

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateAndClock = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function timeOfDay(date) {
  return clock.format(date);
}

export function dateTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateAndClock.format(date);
}

function span(seconds) {
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

/** "just now", "5 min ago", "3 h ago", "2 d ago" from an ISO time to `now` (ms). */
export function ago(iso, now = Date.now()) {
  if (!iso) return '—';
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (Number.isNaN(seconds)) return iso;
  if (seconds < 45) return 'just now';
  return `${span(seconds)} ago`;
}

/** "in 5 min", "in 3 h", "now" (or past) for an ISO time still to come. */
export function fromNow(iso, now = Date.now()) {
  if (!iso) return '—';
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (Number.isNaN(seconds)) return iso;
  if (seconds < 45) return 'now';
  return `in ${span(seconds)}`;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function percent(part, whole) {
  return whole > 0 ? Math.round((part / whole) * 100) : 0;
}

export function shortCommit(commit) {
  return commit ? commit.slice(0, 10) : '—';
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}
