/**
 * The pure parts of the backup store: how a backup is named, how backups are ordered, and which
 * ones a prune removes. No I/O; the clock and the random suffix are arguments.
 */

/** What ordering and pruning need to know of a backup. */
export interface BackupFacts {
  readonly id: string;
  readonly createdAt: string;
}

// A backup id becomes a directory name, so anything outside this set is replaced: an app or
// version can never smuggle a `/` or a leading `.` into the backups directory.
const SAFE_CHAR = /[^A-Za-z0-9._+-]/g;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]*-\d{8}T\d{6}Z-[0-9a-f]{4}$/;

/** `20250301T020000Z`: compact UTC, so ids of one app and version sort by time as plain strings. */
export function compactUtc(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

function safePart(text: string): string {
  const cleaned = text.replace(SAFE_CHAR, '_').replace(/\.{2,}/g, '.');
  return /^[A-Za-z0-9]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

/** `<app>-<version>-<yyyymmddThhmmssZ>-<4 hex>`: readable in `ls`, sortable per app and version. */
export function makeBackupId(app: string, version: string, at: Date, suffix: string): string {
  if (!/^[0-9a-f]{4}$/.test(suffix)) throw new Error(`backup id suffix must be 4 lowercase hex digits, got "${suffix}"`);
  return `${safePart(app)}-${safePart(version)}-${compactUtc(at)}-${suffix}`;
}

/** True for a name makeBackupId could have made; anything else (`..`, `x/y`, `id.partial`) is not one. */
export function isBackupId(id: string): boolean {
  return ID_PATTERN.test(id) && !id.includes('..');
}

/** Newest first: by creation time, then by id so equal times still give one order. */
export function compareNewestFirst(a: BackupFacts, b: BackupFacts): number {
  const byTime = Date.parse(b.createdAt) - Date.parse(a.createdAt);
  if (byTime !== 0 && !Number.isNaN(byTime)) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * The ids a prune removes: everything older than the newest `keep`, except the protected ones.
 * A protected backup does not take one of the `keep` places — a rollback's backup (DESIGN §4.3)
 * is kept in addition to the last N, never instead of one of them.
 */
export function choosePrune(backups: readonly BackupFacts[], keep: number, protect: readonly string[] = []): string[] {
  if (!Number.isInteger(keep) || keep < 0) throw new Error(`keep must be a whole number >= 0, got ${keep}`);
  const guarded = new Set(protect);
  return [...backups]
    .sort(compareNewestFirst)
    .slice(keep)
    .filter((b) => !guarded.has(b.id))
    .map((b) => b.id);
}
