// The service-manager port on systemd (DESIGN §4.7): the daemon is duck.service, the updater
// duck-update.service, a oneshot unit of its own, so restarting duck.service does not kill it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DuckError } from '../../../schemas/errors.js';
import type { ServiceManager } from '../ports.js';

/** Runs one command to its end; rejects with its stderr on a non-zero exit. Injected: tests check the commands. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<void>;

export const AGENT_UNIT = 'duck.service';
export const UPDATE_UNIT = 'duck-update.service';
/** What duck-update.service runs (packaging/debian/duck-update.service): the unit is used as is. */
const UNIT_ARGS = ['self-update', '--yes'];

/** systemd as PID 1 is what this directory tells (sd_booted(3)). */
export function systemdRuns(): boolean {
  return existsSync('/run/systemd/system');
}

export function systemdServiceManager(opts: { run?: CommandRunner; duck?: string; config?: string } = {}): ServiceManager {
  const run = opts.run ?? execCommand;
  const duck = opts.duck ?? '/usr/bin/duck';
  return {
    kind: 'systemd',
    startUpdater: async (args) => {
      const rest = args.filter((a) => !UNIT_ARGS.includes(a));
      // The unit's own arguments: start it and return, it runs in its own cgroup.
      if (rest.length === 0) return run('systemctl', ['start', '--no-block', UPDATE_UNIT]);
      // Other arguments (--retry): a transient unit, its own cgroup too, collected when it ends.
      const config = opts.config ? ['--config', opts.config] : [];
      return run('systemd-run', ['--no-block', '--collect', '--unit=duck-update-once', '--description=Duck agent self-update', duck, ...args, ...config]);
    },
    stopAgent: () => run('systemctl', ['stop', AGENT_UNIT]),
    startAgent: () => run('systemctl', ['start', AGENT_UNIT]),
  };
}

function execCommand(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 5 * 60_000 }, (err, _stdout, stderr) => {
      if (err) reject(new DuckError('io', `${file} ${args.join(' ')}: ${stderr.trim() || err.message}`, { command: [file, ...args].join(' ') }));
      else resolve();
    });
  });
}
