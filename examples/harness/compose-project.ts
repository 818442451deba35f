/**
 * A compose project on this machine's Docker engine, from the outside: its containers, and removing
 * everything compose made for it; the host port it publishes on. The demo and the e2e tests both
 * leave nothing of the stacks they started behind with it.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** Compose labels every container, network and volume it makes with its project. */
export const PROJECT_LABEL = 'com.docker.compose.project';

/** `docker <args>`'s stdout; a failure says the command and Docker's own message. */
export async function docker(args: string[], timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout } = await run('docker', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`docker ${args.slice(0, 2).join(' ')} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

/** The non-empty lines of a docker command's output. */
export function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** The ids of a project's containers (all of them, stopped too). */
export async function projectContainers(project: string): Promise<string[]> {
  return lines(await docker(['ps', '-a', '-q', '--no-trunc', '--filter', `label=${PROJECT_LABEL}=${project}`]));
}

/**
 * Removes everything compose made for `project`: containers, networks and (unless told not to)
 * volumes. For cleanup; safe to call when nothing is left.
 */
export async function removeProject(project: string, options: { volumes?: boolean } = {}): Promise<void> {
  const filter = `label=${PROJECT_LABEL}=${project}`;
  const containers = await projectContainers(project);
  if (containers.length > 0) await docker(['rm', '--force', '--volumes', ...containers]);
  const networks = lines(await docker(['network', 'ls', '-q', '--filter', filter]));
  if (networks.length > 0) await docker(['network', 'rm', ...networks]);
  if (options.volumes !== false) {
    const volumes = lines(await docker(['volume', 'ls', '-q', '--filter', filter]));
    if (volumes.length > 0) await docker(['volume', 'rm', '--force', ...volumes]);
  }
}

/** A TCP port free on 127.0.0.1 right now, to publish a container port on. */
export async function freeHostPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port from the kernel');
  return address.port;
}
