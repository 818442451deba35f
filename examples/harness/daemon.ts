// A real `duck run` left running in the background (by a test or the demo), with its JSON log
// lines readable as they come and a bounded wait for the one expected.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AgentNode } from './agent-node.js';
import { DUCK_BIN } from './agent-node.js';

export type LogEvent = Record<string, unknown> & { event: string };

export interface Daemon {
  readonly child: ChildProcess;
  readonly events: LogEvent[];
  /** Resolves with the first event from `from` on that matches; fails after `timeoutMs`. */
  waitFor(match: (e: LogEvent) => boolean, what: string, opts?: { timeoutMs?: number; from?: number }): Promise<LogEvent>;
  /** SIGTERM, then the exit code (a SIGKILL follows after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
  stderr(): string;
}

/** `command` runs the CLI: the checkout's bin by default, a built artifact's launcher when given. */
export function startDaemon(node: AgentNode, env: NodeJS.ProcessEnv = {}, command: readonly string[] = [process.execPath, DUCK_BIN]): Daemon {
  const child = spawn(command[0]!, [...command.slice(1), 'run', '--log-format', 'json', '--config', node.configFile], {
    cwd: node.dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: LogEvent[] = [];
  const listeners = new Set<() => void>();
  let buffer = '';
  let errors = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim()) events.push(JSON.parse(line) as LogEvent);
    }
    for (const l of listeners) l();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  child.on('exit', () => {
    for (const l of listeners) l();
  });

  return {
    child,
    events,
    stderr: () => errors,
    waitFor: (match, what, opts = {}) =>
      new Promise<LogEvent>((resolve, reject) => {
        const from = opts.from ?? 0;
        const check = (): void => {
          const found = events.slice(from).find(match);
          if (found) {
            done();
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`duck run exited (${child.exitCode ?? child.signalCode}) before ${what}; stderr: ${errors}; log: ${JSON.stringify(events.slice(-10))}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${what} within ${opts.timeoutMs ?? 60_000} ms; log tail: ${JSON.stringify(events.slice(-10))}; stderr: ${errors}`));
        }, opts.timeoutMs ?? 60_000);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
    stop: async (graceMs = 60_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const [code] = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}
