/**
 * An app's container logs followed live through the compose it runs with (`logs --follow`), for
 * the console's log page. One child process per reader, in a process group of its own: stopping
 * the reader ends the whole group (`docker compose` runs its plugin as a child of its own), so a
 * page that left leaves no `logs --follow` behind.
 */
import { spawn } from 'node:child_process';
import { DuckError } from '../../../schemas/errors.js';
import { splitLines } from '../core/text-lines.js';
import type { ComposeInfo, ComposeTarget } from '../ports.js';

export interface LogSink {
  /** Whole lines as they come (stdout and stderr alike: compose writes its own notes on stderr). */
  lines(lines: readonly string[]): void;
  /** The follow ended by itself (the containers went away, compose failed): why, in a line. */
  end(reason: string): void;
}

export interface LogFollow {
  /** Ends the follow; nothing reaches the sink after it. Safe to call more than once. */
  stop(): void;
}

/** The arguments of one follow: both compose flavours take the files, directory and project this way. */
export function composeLogsArgs(info: ComposeInfo, project: string, target: ComposeTarget, tail: number): { bin: string; args: string[] } {
  const [bin = 'docker', ...rest] = info.command;
  const files = target.files.flatMap((f) => ['-f', f]);
  return { bin, args: [...rest, ...files, '--project-directory', target.cwd, '--project-name', project, 'logs', '--follow', '--no-color', '--tail', String(tail)] };
}

export function followComposeLogs(info: ComposeInfo, project: string, target: ComposeTarget, tail: number, sink: LogSink): LogFollow {
  if (target.files.length === 0) throw new DuckError('config', `compose project ${project} has no compose files`, { field: 'files' });
  const { bin, args } = composeLogsArgs(info, project, target, tail);
  // docker-compose v1 is Python: into a pipe its output waits in a block buffer, and a quiet app's
  // lines would not show until kilobytes had piled up.
  const env = { ...process.env, ...target.env, PYTHONUNBUFFERED: '1' };
  const child = spawn(bin, args, { cwd: target.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stopped = false;
  let lastError = '';
  const reader = (stream: NodeJS.ReadableStream, stderr: boolean): void => {
    let carry = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const split = splitLines(carry, chunk);
      carry = split.carry;
      if (stderr && split.lines.length > 0) lastError = split.lines[split.lines.length - 1]!;
      if (!stopped && split.lines.length > 0) sink.lines(split.lines);
    });
    stream.on('end', () => {
      if (!stopped && carry !== '') sink.lines([carry]);
      carry = '';
    });
  };
  reader(child.stdout!, false);
  reader(child.stderr!, true);
  child.on('error', (err) => {
    if (stopped) return;
    stopped = true;
    sink.end(`${bin} could not run: ${err.message}`);
  });
  child.on('close', (code) => {
    if (stopped) return;
    stopped = true;
    sink.end(code === 0 ? 'the containers stopped: the log ends here' : `${[bin, ...args.slice(0, 1)].join(' ')} logs ended with exit code ${code}${lastError === '' ? '' : `: ${lastError}`}`);
  });
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      try {
        // The whole group: the compose plugin under `docker` goes too.
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
    },
  };
}
