// The servers under load, each a child process on loopback: `duck-controller serve` (the built
// dist/, as an operator runs it) or the bare Koa baseline. Started with a deadline on their ready
// line, measured through /proc, and stopped with SIGTERM then SIGKILL, whatever happened.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const READY_MS = 60_000;
const STOP_MS = 15_000;
/** Kept of each child's stderr, for the message when it dies. */
const TAIL_BYTES = 4096;

export interface Server {
  readonly url: string;
  readonly pid: number;
  /** Resolves once the process has exited (at once if it already has). */
  stop(): Promise<void>;
  /** The last lines it wrote to stderr. */
  tail(): string;
}

export const CONTROLLER_MAIN = fileURLToPath(new URL('../../dist/controller/src/main.js', import.meta.url));
const BARE_KOA = fileURLToPath(new URL('./bare-koa.mjs', import.meta.url));

/** Runs `node args…` and waits for `<ready> http://…` on its stdout. */
async function startServer(args: string[], ready: RegExp, what: string): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-TAIL_BYTES);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
    await exited;
    clearTimeout(timer);
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${what} printed no ready line within ${READY_MS / 1000} s`)), READY_MS);
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = ready.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${what} exited (${code ?? signal}) before it was ready: ${stderr.trim()}`));
      });
    });
    return { url, pid: child.pid!, stop, tail: () => stderr };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface ControllerFlags {
  dataDir: string;
  storeUrl?: string;
  enrollToken: string;
  adminToken: string;
  summaryMaxAge?: string;
}

export function startControllerProcess(flags: ControllerFlags, name: string): Promise<Server> {
  const args = [CONTROLLER_MAIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', flags.dataDir, '--enroll-token', flags.enrollToken, '--admin-token', flags.adminToken];
  if (flags.storeUrl) args.push('--store', flags.storeUrl);
  if (flags.summaryMaxAge) args.push('--summary-max-age', flags.summaryMaxAge);
  return startServer(args, /duck-controller listening on (http:\/\/\S+)/, name);
}

/** The baseline; `bodiesFile` holds the JSON its GETs answer, by path. */
export function startBareKoa(bodiesFile: string, name: string): Promise<Server> {
  return startServer([BARE_KOA, bodiesFile], /bare koa listening on (http:\/\/\S+)/, name);
}

async function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
}

/** A process's peak resident memory so far (VmHWM), in MiB; 0 where /proc cannot be read. */
export async function peakRssMiB(pid: number): Promise<number> {
  return (await statusKiB(pid, 'VmHWM')) / 1024;
}

export async function rssMiB(pid: number): Promise<number> {
  return (await statusKiB(pid, 'VmRSS')) / 1024;
}
