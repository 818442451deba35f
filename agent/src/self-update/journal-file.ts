// The updater's journal on disk: `<stateDir>/self-update/journal.json`, format 1, written whole
// and atomically (a temp file, fsync, rename), so a kill leaves the last journal or the one before.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DuckError } from '../../../schemas/errors.js';
import type { UpdateJournal } from '../core/agent-update.js';
import { JOURNAL_FORMAT } from '../core/agent-update.js';

export function selfUpdateDir(stateDir: string): string {
  return join(stateDir, 'self-update');
}

export function journalFile(stateDir: string): string {
  return join(selfUpdateDir(stateDir), 'journal.json');
}

export async function readJournal(stateDir: string): Promise<UpdateJournal | null> {
  const file = journalFile(stateDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DuckError('io', `${file}: ${(err as Error).message}`, { file });
  }
  let journal: UpdateJournal;
  try {
    journal = JSON.parse(text) as UpdateJournal;
  } catch (err) {
    throw new DuckError('io', `${file}: not JSON (${(err as Error).message})`, { file });
  }
  // Later formats keep format 1's fields; an older updater must not act on a journal it cannot read.
  if (journal.format !== JOURNAL_FORMAT) {
    throw new DuckError('io', `${file}: /format: journal format ${String(journal.format)} is not one this updater reads (${JOURNAL_FORMAT})`, { file, field: '/format' });
  }
  return journal;
}

export async function writeJournal(stateDir: string, journal: UpdateJournal): Promise<void> {
  await writeAtomic(journalFile(stateDir), `${JSON.stringify(journal, null, 2)}\n`);
}

/** Writes `file` so that a crash leaves either its old or its new bytes. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
