// The state as it was before a switch (DESIGN §4.7): taken while no daemon writes it, put back
// when the new build is reverted, so the old build finds the state it left.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { STATE_FILE } from '../adapters/state-lowdb.js';
import { selfUpdateDir, writeAtomic } from './journal-file.js';

function snapshotFile(stateDir: string): string {
  return join(selfUpdateDir(stateDir), 'state-before-switch.json');
}

/** Copies the state file aside (to a temp name, then renamed: a kill leaves no half snapshot). */
export async function takeSnapshot(stateDir: string): Promise<void> {
  const text = await readFile(join(stateDir, STATE_FILE), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (text === null) return;
  await writeAtomic(snapshotFile(stateDir), text);
}

/** Puts the snapshot back over the state file; false when there is none. */
export async function restoreSnapshot(stateDir: string): Promise<boolean> {
  const text = await readFile(snapshotFile(stateDir), 'utf8').catch(() => null);
  if (text === null) return false;
  await writeAtomic(join(stateDir, STATE_FILE), text);
  return true;
}

export async function dropSnapshot(stateDir: string): Promise<void> {
  await rm(snapshotFile(stateDir), { force: true });
}

