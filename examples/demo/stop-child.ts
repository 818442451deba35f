import type { ChildProcess } from 'node:child_process';

/**
 * SIGTERM, then SIGKILL after `graceMs`: the demo's children (dockerd, duck-controller) stop
 * cleanly on SIGTERM, and one that hangs must not keep the demo from exiting.
 */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(killer);
}
