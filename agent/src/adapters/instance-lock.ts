import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckError } from '../core/errors.js';

export interface InstanceLock {
  release(): Promise<void>;
}

/**
 * One `duck run` (or mutating command) per state directory. A pid file made with O_EXCL; a file
 * left by a killed agent names a pid that no longer runs, and is taken over.
 */
export async function acquireInstanceLock(stateDir: string, what: string): Promise<InstanceLock> {
  const file = join(stateDir, 'agent.pid');
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
        throw new DuckError('locked', `${file}: ${holder || 'another duck'} (pid ${pid}) already works on this state directory`, { file, pid: Number(pid) });
      }
      await rm(file, { force: true });
    }
  }
  throw new DuckError('locked', `${file}: could not take the instance lock`, { file });
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
