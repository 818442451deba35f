import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckError } from '../../../schemas/errors.js';

const PID_FILE = 'agent.pid';
/** What `duck run` writes as the holder: commands hand their requests to it. */
export const DAEMON = 'duck run';

export interface InstanceLock {
  release(): Promise<void>;
}

/**
 * One `duck run` (or mutating command) per state directory. A pid file made with O_EXCL; a file
 * left by a killed agent names a pid that no longer runs, and is taken over.
 */
/** Who holds the state directory now, if anyone alive does. */
export async function instanceHolder(stateDir: string): Promise<{ pid: number; what: string } | null> {
  const [pid, what] = (await readFile(join(stateDir, PID_FILE), 'utf8').catch(() => '')).split('\n');
  return pid && isAlive(Number(pid)) ? { pid: Number(pid), what: what ?? '' } : null;
}

export async function acquireInstanceLock(stateDir: string, what: string): Promise<InstanceLock> {
  const file = join(stateDir, PID_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o644);
      await handle.writeFile(`${process.pid}\n${what}\n`);
      await handle.close();
      return { release: () => rm(file, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const [pid, holder] = (await readFile(file, 'utf8').catch(() => '')).split('\n');
      if (pid && isAlive(Number(pid))) {
        throw new DuckError('locked', `${file}: ${holder || 'another duck'} (pid ${pid}) already works on this state directory`, {
          file,
          pid: Number(pid),
          holder: holder ?? '',
        });
      }
      await rm(file, { force: true });
    }
  }
  throw new DuckError('locked', `${file}: could not take the instance lock`, { file });
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
