// `duck-controller serve` as a process of its own, for tests where controllers must be real
// processes (one killed with SIGKILL, as a crash is). Started with `--port 0`; ready when it prints
// its "listening on" line. Its stderr log lines (JSON) are kept, so a test can wait for an event.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const MAIN = join(process.cwd(), 'controller/src/main.ts');
/** The controller from source; a test of a built artifact passes its launcher instead. */
const FROM_SOURCE = [process.execPath, '--import', 'tsx', MAIN];

export interface ControllerProcess {
  readonly url: string;
  readonly pid: number;
  /** The JSON log lines so far. */
  readonly logs: Array<{ event: string } & Record<string, unknown>>;
  /** Resolves with the first log line (past or future) that fits; rejects after `ms` or when the process exits first. */
  waitForLog(fits: (line: { event: string } & Record<string, unknown>) => boolean, ms: number, what: string): Promise<void>;
  /** Sends the signal and resolves once the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export async function startControllerProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  readyWithinMs = 120_000,
  command: readonly string[] = FROM_SOURCE,
): Promise<ControllerProcess> {
  const child: ChildProcess = spawn(command[0]!, [...command.slice(1), 'serve', '--port', '0', ...args], {
    env: { ...process.env, DUCK_STORE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: ControllerProcess['logs'] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    partial += chunk.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as ControllerProcess['logs'][number]);
      } catch {
        logs.push({ event: 'not-json', line });
      }
    }
    for (const wake of waiters) wake();
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      for (const wake of waiters) wake();
      resolve();
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    // A bound for a machine under load, not a speed check: a serve that never gets ready fails here.
    const timer = setTimeout(() => reject(new Error(`no ready line within ${readyWithinMs} ms: ${out}${stderr}`)), readyWithinMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const found = /listening on (\S+)/.exec(out);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code} before its ready line: ${out}${stderr}`));
    });
  }).catch(async (err: unknown) => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    throw err;
  });
  return {
    url,
    pid: child.pid!,
    logs,
    waitForLog(fits, ms, what) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (logs.some(fits)) done(null);
          else if (child.exitCode !== null || child.signalCode !== null) done(new Error(`the controller at ${url} exited before logging ${what}`));
        };
        const timer = setTimeout(() => done(new Error(`the controller at ${url} did not log ${what} within ${ms} ms; its log:\n${stderr}`)), ms);
        const done = (err: Error | null): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(err);
          else resolve();
        };
        waiters.add(check);
        check();
      });
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
