/**
 * What the demo needs from the machine: a Docker engine that answers, Compose (v2 plugin or v1
 * `docker-compose`), a static busybox for the FROM-scratch images, and git (its `http-backend`
 * serves the channel). As root on Debian it installs what is missing from Debian's packages and
 * starts `dockerd` itself; anywhere else it says exactly what to install.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { assertStaticExecutable, BUSYBOX } from '../hello/busybox-image.js';
import { stopChild } from './stop-child.js';

const exec = promisify(execFile);

export interface Missing {
  readonly what: string;
  readonly debianPackage: string;
}

export class PrerequisiteError extends Error {
  override readonly name = 'PrerequisiteError';
}

async function answers(cmd: string, args: string[], timeoutMs = 20_000): Promise<boolean> {
  try {
    await exec(cmd, args, { timeout: timeoutMs });
    return true;
  } catch {
    return false;
  }
}

export const engineAnswers = (): Promise<boolean> => answers('docker', ['info', '--format', '{{.ServerVersion}}']);

/** The Compose command that works here (`docker compose` or `docker-compose`), or null. */
export async function composeCommand(): Promise<string | null> {
  if (await answers('docker', ['compose', 'version'])) return 'docker compose';
  if (await answers('docker-compose', ['version', '--short'])) return 'docker-compose';
  return null;
}

async function commandExists(cmd: string): Promise<boolean> {
  return answers('sh', ['-c', `command -v ${cmd}`]);
}

/** What is missing, each with the Debian package that brings it. */
export async function findMissing(): Promise<Missing[]> {
  const missing: Missing[] = [];
  if (!(await commandExists('docker')) || (!(await engineAnswers()) && !(await commandExists('dockerd')))) {
    missing.push({ what: 'a Docker engine (dockerd and the docker client)', debianPackage: 'docker.io' });
  }
  if ((await composeCommand()) === null) missing.push({ what: 'Docker Compose', debianPackage: 'docker-compose' });
  try {
    await assertStaticExecutable(BUSYBOX);
  } catch {
    missing.push({ what: `a static busybox at ${BUSYBOX}`, debianPackage: 'busybox-static' });
  }
  if (!(await commandExists('git'))) missing.push({ what: 'git (its http-backend serves the channel)', debianPackage: 'git' });
  return missing;
}

const canInstall = (): boolean => process.getuid?.() === 0 && existsSync('/etc/debian_version');

/** The message for a machine where the demo cannot install what it needs itself. */
export function installAdvice(missing: readonly Missing[], engineDown: boolean): string {
  const packages = [...new Set(missing.map((m) => m.debianPackage))];
  const lines = ['The demo needs a Docker engine, Docker Compose, a static busybox and git.'];
  for (const m of missing) lines.push(`  missing: ${m.what}`);
  if (packages.length > 0) lines.push('Install them (Debian or Ubuntu, as root):', `  apt-get install -y ${packages.join(' ')}`);
  if (engineDown) {
    lines.push(
      'Start the Docker engine and make sure this user may talk to it:',
      '  systemctl start docker    (or, without systemd: dockerd &)',
      '  docker info               (must answer; otherwise run the demo as root or join the docker group)',
    );
  }
  lines.push('Then run `npm run demo` again.');
  return lines.join('\n');
}

export interface Engine {
  /** The dockerd the demo started, to stop on exit; null when one was already running. */
  readonly started: ChildProcess | null;
  readonly installed: readonly string[];
  readonly compose: string;
}

/**
 * Makes sure the engine and tools are there. `log` is where apt-get's and dockerd's output goes
 * (a file in the demo's temp dir), so the narration stays readable.
 */
export async function ensureEngine(say: (line: string) => void, logFile: string): Promise<Engine> {
  let missing = await findMissing();
  const installed: string[] = [];
  if (missing.length > 0) {
    if (!canInstall()) throw new PrerequisiteError(installAdvice(missing, !(await engineAnswers())));
    const packages = [...new Set(missing.map((m) => m.debianPackage))];
    say(`installing ${packages.join(' ')} with apt-get (output in ${logFile})`);
    await runLogged('apt-get', ['update', '-q'], logFile);
    await runLogged('apt-get', ['install', '-y', '-q', ...packages], logFile);
    installed.push(...packages);
    missing = await findMissing();
    if (missing.length > 0) throw new PrerequisiteError(installAdvice(missing, !(await engineAnswers())));
  }
  let started: ChildProcess | null = null;
  if (!(await engineAnswers())) {
    if (!canInstall()) throw new PrerequisiteError(installAdvice([], true));
    // The package's service may already be starting one (its postinst); a second would fight it.
    if (!(await answers('pgrep', ['-x', 'dockerd']))) {
      say(`starting dockerd in the background (log: ${logFile})`);
      started = startDockerd(logFile);
    }
    if (!(await waitForEngine(60_000))) {
      started?.kill('SIGTERM');
      throw new PrerequisiteError(`the Docker engine did not answer within 60 s; see ${logFile}`);
    }
  }
  const compose = (await composeCommand()) ?? 'docker-compose';
  return { started, installed, compose };
}

async function waitForEngine(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await engineAnswers()) return true;
    await sleep(1_000);
  }
  return false;
}

function startDockerd(logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawn('dockerd', [], { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

/** Stops the dockerd the demo started: SIGTERM lets it stop its containers cleanly. */
export function stopDockerd(child: ChildProcess): Promise<void> {
  return stopChild(child, 20_000);
}

function runLogged(cmd: string, args: string[], logFile: string): Promise<void> {
  const fd = openSync(logFile, 'a');
  return new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    closeSync(fd);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new PrerequisiteError(`${cmd} ${args.join(' ')} exited with ${code}; see ${logFile}`))));
  });
}
