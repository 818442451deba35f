// The service-manager port without systemd (DESIGN §4.7): the daemon is whatever holds the state
// directory's pid file as `duck run`; the updater and the daemon it starts are detached processes
// in sessions of their own (setsid), so each outlives the process that started it.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckError } from '../../../schemas/errors.js';
import type { ServiceManager } from '../ports.js';
import { DAEMON, instanceHolder, isAlive } from './instance-lock.js';

export interface DetachedOptions {
  readonly stateDir: string;
  /** The launcher of the current build: `<buildsDir>/current/duck`. */
  readonly launcher: string;
  readonly configFile: string;
  /** Where the detached processes write their output (appended). */
  readonly logFile: string;
  /** How long a stopping daemon may take before SIGKILL; default 2 min (a step finishing). */
  readonly stopTimeoutMs?: number;
}

export function detachedServiceManager(opts: DetachedOptions): ServiceManager {
  const spawnDetached = (args: readonly string[]): void => {
    // The first update on a node makes the directory its processes log to.
    mkdirSync(dirname(opts.logFile), { recursive: true });
    const out = openSync(opts.logFile, 'a');
    try {
      const child = spawn(opts.launcher, [...args, '--config', opts.configFile], { detached: true, stdio: ['ignore', out, out] });
      child.on('error', () => undefined);
      child.unref();
    } finally {
      closeSync(out);
    }
  };
  return {
    kind: 'detached',
    startUpdater: async (args) => spawnDetached(args),
    startAgent: async () => spawnDetached(['run']),
    stopAgent: async () => {
      const holder = await instanceHolder(opts.stateDir);
      if (holder === null || holder.what !== DAEMON) return;
      process.kill(holder.pid, 'SIGTERM');
      const timeout = opts.stopTimeoutMs ?? 120_000;
      for (let waited = 0; isAlive(holder.pid); waited += 100) {
        if (waited >= timeout) {
          // The journal makes a kill safe; a daemon that will not stop must not block the update.
          process.kill(holder.pid, 'SIGKILL');
          await sleep(100);
          if (isAlive(holder.pid)) throw new DuckError('io', `duck run (pid ${holder.pid}) did not stop`, { pid: holder.pid });
          return;
        }
        await sleep(100);
      }
    },
  };
}
