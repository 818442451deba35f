// A file of JSON lines that only grows: each group commit is one write of all its lines and one
// fsync, so a report is durable without rewriting anything. A kill can leave the last line torn
// (no newline, or half a JSON text); reading drops such a tail with a warning and cuts the file back
// to its last whole line, so the next append never glues onto garbage. A bad line anywhere else is
// damage, not a torn write, and refuses the open. Also the atomic whole-file write (temp file,
// fsync, rename, fsync of the directory) the store's small documents and compaction use.
import { open, rename, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StoreOpenError } from './fleet-store.js';

export interface ReadLines {
  /** The whole lines, parsed, in file order. */
  entries: unknown[];
  /** Bytes up to the end of the last whole line. */
  size: number;
  /** Bytes past it (a torn last line), dropped. */
  torn: number;
}

const NEWLINE = 0x0a;

/** Parses a log's whole lines; a torn tail is reported, a bad line before it throws naming file and line. */
export function parseLines(file: string, bytes: Buffer): ReadLines {
  const entries: unknown[] = [];
  let start = 0;
  let line = 1;
  let size = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(NEWLINE, start);
    // A kill mid-append leaves a prefix of the lines written, so only the text after the last
    // newline can be torn; a whole JSON text without its newline is torn too (its commit never finished).
    if (end === -1) return { entries, size, torn: bytes.length - size };
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8', start, end));
    } catch (err) {
      throw new StoreOpenError(file, `line ${line} is not valid JSON (${(err as Error).message}); the log is damaged, restore a backup`, { cause: err });
    }
    entries.push(parsed);
    size = end + 1;
    start = end + 1;
    line++;
  }
  return { entries, size, torn: 0 };
}

/** Reads and parses a log; with `repair`, cuts a torn tail off the file and says so through `warn`. */
export async function readLog(file: string, opts: { repair: boolean; warn: (message: string) => void }): Promise<ReadLines> {
  const handle = await open(file, opts.repair ? 'r+' : 'r');
  try {
    const read = parseLines(file, await handle.readFile());
    if (read.torn > 0) {
      opts.warn(`${file}: ignored a torn last line (${read.torn} bytes, a write cut short by a stop); every line before it is kept`);
      if (opts.repair) {
        await handle.truncate(read.size);
        await handle.sync();
      }
    }
    return read;
  } finally {
    await handle.close();
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `content` beside `file` under a temporary name, on disk; rename it over `file` to put it in place. */
export async function writeBeside(file: string, content: string | Buffer | AsyncIterable<Buffer>): Promise<string> {
  const temp = join(dirname(file), `.${basename(file)}.tmp`);
  const handle = await open(temp, 'w', 0o600);
  try {
    // Each writeFile goes on from where the last one ended.
    for await (const chunk of typeof content === 'string' || Buffer.isBuffer(content) ? [content] : content) await handle.writeFile(chunk);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

/** Replaces `file` by `content` all at once (a crash leaves the old file or the new one), the rename synced too. */
export async function writeFileAtomic(file: string, content: string | Buffer | AsyncIterable<Buffer>): Promise<void> {
  await rename(await writeBeside(file, content), file);
  await syncDirectory(dirname(file));
}

/** An open log, appended to by one writer at a time (the store's write slot). */
export class AppendLog {
  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    /** Bytes in the file: where the next append lands. */
    public size: number,
  ) {}

  static async open(file: string, size: number): Promise<AppendLog> {
    const handle = await open(file, 'a', 0o600);
    return new AppendLog(file, handle, size);
  }

  /** Appends whole lines (each ending in a newline) and waits until they are on disk. */
  async append(lines: string): Promise<void> {
    const bytes = Buffer.from(lines, 'utf8');
    try {
      await this.handle.write(bytes);
      await this.handle.datasync();
      this.size += bytes.length;
    } catch (err) {
      // A write cut short would leave part of a line, which the next append would glue onto: cut it off.
      await this.handle.truncate(this.size).catch(() => undefined);
      throw err;
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
