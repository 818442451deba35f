/**
 * The real `duck-controller serve` from dist/, on a free loopback port, and the admin API the demo
 * reads at the end to show that the agent reported what it did.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { stopChild } from './stop-child.js';

export const CONTROLLER_BIN = fileURLToPath(new URL('../../dist/controller/src/main.js', import.meta.url));
const LISTENING = /duck-controller listening on (http:\/\/\S+)/;

export interface ControllerProcess {
  readonly url: string;
  readonly enrollToken: string;
  readonly adminToken: string;
  readonly child: ChildProcess;
  /** GET an admin API path (`/api/v1/...`) as JSON. */
  api<T>(path: string): Promise<T>;
  output(): string;
  stop(graceMs?: number): Promise<void>;
}

export async function startController(dataDir: string, timeoutMs = 30_000): Promise<ControllerProcess> {
  const enrollToken = `enroll-${randomBytes(12).toString('hex')}`;
  const adminToken = `admin-${randomBytes(12).toString('hex')}`;
  const child = spawn(
    process.execPath,
    [CONTROLLER_BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', dataDir, '--enroll-token', enrollToken, '--admin-token', adminToken],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => fail(new Error(`duck-controller did not say where it listens within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const found = LISTENING.exec(output);
      if (found) {
        clearTimeout(timer);
        resolveUrl(found[1]!);
      }
    };
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`duck-controller exited with ${code} before listening:\n${output}`)));
  });
  // The listening line is read; later output is kept (bounded) for a failure message.
  const keep = (chunk: Buffer): void => void (output = (output + chunk.toString('utf8')).slice(-20_000));
  child.stdout.removeAllListeners('data').on('data', keep);
  child.stderr.removeAllListeners('data').on('data', keep);
  child.removeAllListeners('exit');

  return {
    url,
    enrollToken,
    adminToken,
    child,
    output: () => output,
    api: async <T>(path: string): Promise<T> => {
      const res = await fetch(new URL(path, url), { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    stop: (graceMs = 10_000) => stopChild(child, graceMs),
  };
}
