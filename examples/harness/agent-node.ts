// One node's agent, for the tests and the demo: a config in a temp dir trusting the given root
// keys, and a way to run the real `duck` CLI (the built dist) on it.
// Its state file is the tests' to read and seed (test/helpers/agent-state.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { ControllerConfig, Limits } from '../../schemas/index.js';
import type { TestKey } from './keys.js';
import { makeTempDir, run } from './tmp.js';

// From this file, not the working directory: the demo runs this from wherever it was started.
// The bundle `npm run build` makes, what package.json's bin runs (it starts in half the CPU time of
// the tsc output it is made from, dist/agent/src/main.js).
export const DUCK_BIN = fileURLToPath(new URL('../../dist/agent/bundle/main.mjs', import.meta.url));

export interface DuckResult {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> | null;
}

export interface AgentNode {
  readonly dir: string;
  readonly configFile: string;
  readonly stateDir: string;
  readonly overlayFile: string;
  duck(...args: string[]): Promise<DuckResult>;
  /** The CLI with extra environment (DUCK_FAULT_KILL_AT, TZ...). */
  duckWith(env: NodeJS.ProcessEnv, ...args: string[]): Promise<DuckResult>;
}

export async function makeAgentNode(opts: {
  url: string;
  rootKeys: readonly TestKey[];
  group?: string;
  token?: string;
  limits?: Limits;
  apply?: { keepBackups?: number; keepReleases?: number; minFreeBytes?: number };
  /** How often the channel is fetched; 60s when absent. */
  interval?: string;
  /** The agent.yaml controller section, as given. */
  controller?: ControllerConfig;
  /**
   * agent.yaml startSpread: 0s unless given, so a test's lone `duck run` fetches at once; null
   * leaves it out (the agent's default spread, as a fleet has it).
   */
  startSpread?: string | null;
}): Promise<AgentNode> {
  const dir = await makeTempDir('duck-node-');
  await mkdir(join(dir, 'keys'));
  for (const key of opts.rootKeys) await writeFile(join(dir, 'keys', `${key.name}.asc`), key.armoredPublicKey);
  const config: Record<string, unknown> = {
    channel: { url: opts.url, branch: 'main', interval: opts.interval ?? '60s', ...(opts.token ? { token: opts.token } : {}) },
    group: opts.group ?? 'production',
    trust: { keys: opts.rootKeys.map((k) => `keys/${k.name}.asc`) },
    stateDir: 'state',
    overlay: 'overlay.yaml',
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.apply ? { apply: opts.apply } : {}),
    ...(opts.controller ? { controller: opts.controller } : {}),
    ...(opts.startSpread === null ? {} : { startSpread: opts.startSpread ?? '0s' }),
  };
  const configFile = join(dir, 'agent.yaml');
  await writeFile(configFile, stringify(config));
  return {
    dir,
    configFile,
    stateDir: join(dir, 'state'),
    overlayFile: join(dir, 'overlay.yaml'),
    duck: (...args) => duckIn(dir, configFile, {}, args),
    duckWith: (env, ...args) => duckIn(dir, configFile, env, args),
  };
}

async function duckIn(dir: string, configFile: string, env: NodeJS.ProcessEnv, args: string[]): Promise<DuckResult> {
  const result = await run(process.execPath, [DUCK_BIN, ...args, '--config', configFile], { allowFailure: true, cwd: dir, env: { ...process.env, ...env } });
  return duckResultOf(result, args);
}

/** A finished `duck` process as a result; stdout parsed as JSON when the command was given --json. */
export function duckResultOf(result: { code: number; stdout: Buffer; stderr: string }, args: readonly string[]): DuckResult {
  const stdout = result.stdout.toString('utf8');
  let json: Record<string, unknown> | null = null;
  if (args.includes('--json')) {
    try {
      json = JSON.parse(stdout) as Record<string, unknown>;
    } catch {
      json = null;
    }
  }
  return { code: result.code, stdout, stderr: result.stderr, json };
}
