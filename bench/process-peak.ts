// A spawned command's wall time and peak memory, for the rows that compare Duck as a process with
// native tools. The peak is the highest VmHWM (a process's own peak RSS, from /proc) of any process
// of the command's tree seen while it ran — git clone runs index-pack and remote-http as children,
// git verify-commit runs gpg — polled every 10 ms, so a process that lives less than that may be
// missed. Linux only; a figure of 0 means /proc could not be read.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

export interface ProcessRun {
  readonly code: number;
  readonly ms: number;
  /** The highest VmHWM of one process of the tree, in MiB. */
  readonly peakMiB: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runMeasured(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ProcessRun> {
  const start = performance.now();
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let peakKiB = 0;
  const seen = new Map<number, number>();
  const sample = async (): Promise<void> => {
    for (const pid of await treeOf(child.pid!)) {
      const hwm = await vmHwmKiB(pid);
      if (hwm > (seen.get(pid) ?? 0)) seen.set(pid, hwm);
    }
    peakKiB = Math.max(peakKiB, ...seen.values());
  };
  const poll = setInterval(() => void sample().catch(() => undefined), 10);
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? -1));
  });
  const ms = performance.now() - start;
  clearInterval(poll);
  return { code, ms, peakMiB: peakKiB / 1024, stdout, stderr };
}

async function vmHwmKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** The process and its descendants, through /proc/<pid>/task/<tid>/children. */
async function treeOf(root: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
    for (const tid of tasks) {
      const children = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '');
      for (const c of children.split(' ').filter(Boolean)) queue.push(Number(c));
    }
  }
  return out;
}
