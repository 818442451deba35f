// The node overlay file (DESIGN §4.1): read and validated, watched with chokidar, and edited in
// place by `duck pin`/`hold`/`schedule` with the operator's comments and formatting kept.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Document } from 'yaml';
import { LineCounter, parseDocument } from 'yaml';
import type { OverlayFile } from '../../../schemas/index.js';
import { parseYaml } from '../../../schemas/index.js';
import { pointerSegments } from '../../../schemas/problems.js';
import { asConfigError, DuckError, formatLocation, toDuckError } from '../../../schemas/errors.js';
import { editYamlText, isCalendarDate, OVERLAY_YAML_OPTIONS, parseInstant } from '../core/overlay-edits.js';
import { assertValidWindows } from '../core/window-spec.js';

/**
 * The overlay in `file`; a missing file is no overlay ({}).
 * @throws DuckError 'config' naming file:line:col and field (YAML, schema, time zone or date);
 *   'io' when the file exists but cannot be read
 */
export async function loadOverlay(file: string): Promise<OverlayFile> {
  const text = await readOverlayText(file);
  return text === null ? {} : parseOverlay(text, file);
}

/**
 * Validates overlay text: the schema, then what the schema cannot check — time zones exist, and
 * hold.until and schedule.<app>.at are real dates (ajv takes 2026-02-30 and 23:59:60). A bad
 * overlay is the operator's own config error, not a refused channel.
 */
export function parseOverlay(text: string, file: string): OverlayFile {
  return asConfigError(() => checkOverlay(text, file));
}

function checkOverlay(text: string, file: string): OverlayFile {
  const overlay = parseYaml('overlay', text, file);
  try {
    if (overlay.windows) assertValidWindows(overlay.windows, { file, field: '/windows' });
  } catch (err) {
    throw withPosition(toDuckError(err), text, file);
  }
  const fail = (field: string, message: string): never => {
    throw withPosition(new DuckError('invalid', `${file}: ${field}: ${message}`, { file, field }), text, file);
  };
  const until = overlay.hold?.until;
  if (until !== undefined && !isCalendarDate(until) && parseInstant(until) === null) {
    fail('/hold/until', `"${until}" is not a date like 2026-12-31 or a date-time with an offset like 2026-12-31T18:00:00+01:00`);
  }
  for (const [app, entry] of Object.entries(overlay.schedule ?? {})) {
    if (parseInstant(entry.at) === null) fail(`/schedule/${app}/at`, `"${entry.at}" is not a date-time with an offset like 2026-11-25T02:00:00+08:00`);
  }
  return overlay;
}

/** Adds line and column to an error that names only a field (the window checks know no text). */
function withPosition(err: DuckError, text: string, file: string): DuckError {
  const field = err.data.field;
  if (field === undefined || err.data.line !== undefined) return err;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...OVERLAY_YAML_OPTIONS, lineCounter });
  const node = doc.getIn(pointerSegments(field), true) as { range?: [number, number, number] } | undefined;
  if (!node?.range) return err;
  const { line, col: column } = lineCounter.linePos(node.range[0]);
  const unplaced = `${formatLocation({ file, field })}: `;
  const message = err.message.startsWith(unplaced) ? err.message.slice(unplaced.length) : err.message;
  return new DuckError(err.code, `${formatLocation({ file, line, column, field })}: ${message}`, { ...err.data, file, line, column }, err.retry, { cause: err });
}

async function readOverlayText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new DuckError('io', `${file}: cannot read the overlay (${code ?? (err as Error).message})`, { file }, 'transient', { cause: err });
  }
}

// ---- watching ----

export interface OverlayWatch {
  /** The last good overlay: a bad edit never replaces it. */
  current(): OverlayFile;
  /** The error of the latest bad version, null once a good version is read again. */
  error(): DuckError | null;
  close(): Promise<void>;
}

/** Editors save in bursts (truncate, write, chmod; or write a temp file and rename): read once after. */
export const OVERLAY_DEBOUNCE_MS = 100;

/**
 * Watches `file` and calls `onChange` after each re-read: with the new overlay and null, or with
 * the last good overlay and the error. The directory is watched, filtered to the file, so a file
 * that does not exist yet, is deleted, or is replaced by rename (vim, sed -i, editOverlay) is seen.
 * A bad file at start gives current() = {} and error() set; onChange is not called for it.
 */
export async function watchOverlay(file: string, onChange: (overlay: OverlayFile, error: DuckError | null) => void): Promise<OverlayWatch> {
  const path = resolve(file);
  const dir = dirname(path);
  let good: OverlayFile = {};
  let error: DuckError | null = null;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let reading: Promise<void> | null = null;
  let again = false;

  const read = async (): Promise<void> => {
    try {
      good = await loadOverlay(path);
      error = null;
    } catch (err) {
      error = toDuckError(err);
    }
  };
  const reread = (): void => {
    timer = undefined;
    if (closed) return;
    // One read at a time: a change during a read is read again after it, never in parallel.
    if (reading) {
      again = true;
      return;
    }
    reading = read().then(() => {
      reading = null;
      if (closed) return;
      notify();
      if (again) {
        again = false;
        reread();
      }
    });
  };
  const notify = (): void => {
    try {
      onChange(good, error);
    } catch (err) {
      // A throwing listener must not stop the watch (or crash the agent from a timer).
      process.emitWarning(`overlay onChange listener threw: ${(err as Error).message}`);
    }
  };
  const schedule = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reread, OVERLAY_DEBOUNCE_MS);
  };

  // chokidar only for the daemon's watch: a command that reads the overlay once never loads it.
  const { watch } = await import('chokidar');
  const watcher = watch(dir, {
    depth: 0,
    ignoreInitial: true,
    ignored: (p: string) => p !== dir && p !== path,
  });
  watcher.on('all', (_event, changed) => {
    if (resolve(changed) === path) schedule();
  });
  // An unreadable directory is reported like a bad file; the last good overlay stays in force.
  watcher.on('error', (err) => {
    error = new DuckError('io', `${path}: cannot watch the overlay (${(err as Error).message})`, { file: path }, 'transient', { cause: err });
  });
  await new Promise<void>((ready) => watcher.once('ready', ready));
  // Read after the watcher is ready: an edit between a first read and `ready` would be missed.
  await read();

  return {
    current: () => good,
    error: () => error,
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      await watcher.close();
      await reading;
    },
  };
}

// ---- editing ----

/** Two CLI edits at once: each re-reads and re-applies when the file changed under it. */
const EDIT_ATTEMPTS = 3;

/**
 * Applies `edit` to the overlay (an empty document when the file does not exist) and writes it
 * atomically, keeping comments, key order and the operator's formatting on untouched lines.
 * `edit` may run more than once (when the file changes under it), so it must only touch `doc`.
 * Nothing is written when the edit changes nothing.
 * @throws DuckError 'config' when the overlay is invalid before the edit (an edit written into a
 *   file the agent rejects would never take effect) or after it; the file is left untouched
 */
export async function editOverlay(file: string, edit: (doc: Document) => void): Promise<OverlayFile> {
  // Write through a symlink: renaming over the link would replace it with a plain file.
  const target = await realpath(file).catch(() => resolve(file));
  for (let attempt = 1; ; attempt++) {
    const original = await readOverlayText(target);
    if (original !== null) explained(() => parseOverlay(original, file), 'fix the overlay first: the agent ignores it while it is invalid');
    const edited = editYamlText(original ?? '', edit).text;
    const overlay = explained(() => parseOverlay(edited, file), 'in the overlay as edited; nothing was written');
    if (edited === (original ?? '')) return overlay;
    if ((await readOverlayText(target)) !== original && attempt < EDIT_ATTEMPTS) continue;
    await writeAtomically(target, edited, original !== null);
    return overlay;
  }
}

function explained<T>(check: () => T, note: string): T {
  try {
    return check();
  } catch (err) {
    const e = toDuckError(err);
    throw new DuckError(e.code, `${e.message} (${note})`, e.data, e.retry, { cause: e });
  }
}

async function writeAtomically(file: string, text: string, exists: boolean): Promise<void> {
  const dir = dirname(file);
  if (!exists) await mkdir(dir, { recursive: true });
  const info = exists ? await stat(file) : null;
  const mode = info ? info.mode & 0o7777 : 0o644;
  // Same directory: rename is atomic only within one file system.
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.chmod(mode); // open's mode is masked by the umask
    if (info && process.getuid?.() === 0 && (info.uid !== 0 || info.gid !== 0)) await handle.chown(info.uid, info.gid);
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw ioError(file, err);
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw ioError(file, err);
  }
  // The rename is durable only once the directory entry is on disk.
  const dirHandle = await open(dir, 'r').catch(() => null);
  await dirHandle?.sync().catch(() => undefined);
  await dirHandle?.close();
}

function ioError(file: string, err: unknown): DuckError {
  const code = (err as NodeJS.ErrnoException).code;
  return new DuckError('io', `${file}: cannot write the overlay (${code ?? (err as Error).message})`, { file }, 'stalled', { cause: err });
}
