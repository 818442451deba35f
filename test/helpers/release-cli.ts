// The publisher's `duck release` CLI as a publisher runs it (the built dist, a child process, git
// configuration isolated from the machine's), and the agent's own trust code as the judge of what
// it signs: acceptChain over the channel's objects, exactly as a node runs it after a fetch.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChainResult } from '../../agent/src/channel/accept-chain.js';
import { acceptChain } from '../../agent/src/channel/accept-chain.js';
import { readTrustedKey, type TrustedKey } from '../../agent/src/channel/signature.js';
import { openLocalRepo } from '../../agent/src/release/local-repo.js';
import { DEFAULT_LIMITS } from '../../agent/src/core/limits.js';
import type { DuckResult } from '../../examples/harness/agent-node.js';
import { DUCK_BIN, duckResultOf } from '../../examples/harness/agent-node.js';
import { isolatedGitEnv } from './channel-builder.js';
import type { OpenpgpTestKey, TestKey } from '../../examples/harness/keys.js';
import { run } from '../../examples/harness/tmp.js';

export type CliResult = DuckResult;

/** `duck <args>` in `cwd`; DUCK_SIGNING_KEY only when `env` sets it. */
export async function duckCli(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const base = isolatedGitEnv(env);
  if (!('DUCK_SIGNING_KEY' in env)) delete base.DUCK_SIGNING_KEY;
  const r = await run(process.execPath, [DUCK_BIN, ...args], { cwd, allowFailure: true, env: base });
  return duckResultOf(r, args);
}

/** Writes the key's armored private key where `--key` can read it. */
export async function writeKeyFile(dir: string, key: OpenpgpTestKey): Promise<string> {
  const file = join(dir, `${key.name}.key`);
  await writeFile(file, key.armoredPrivateKey, { mode: 0o600 });
  return file;
}

export async function trustedKey(key: TestKey): Promise<TrustedKey> {
  return readTrustedKey(key.armoredPublicKey, key.name, key.name, 'agent');
}

/** The agent's verdict on the channel's HEAD, walking from the first commit with `roots` trusted. */
export async function agentAccepts(dir: string, roots: readonly TestKey[], now = new Date()): Promise<ChainResult> {
  const repo = await openLocalRepo(dir);
  const tip = await repo.head();
  if (tip === null) throw new Error(`${dir} has no commit`);
  return acceptChain({
    objects: repo.objects,
    tip,
    anchor: null,
    agentKeys: await Promise.all(roots.map(trustedKey)),
    now,
    limits: DEFAULT_LIMITS,
    verified: () => undefined,
  });
}

/** git in the channel with the test's isolated environment; stdout trimmed. */
export async function gitIn(dir: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return (await run('git', args, { cwd: dir, env: isolatedGitEnv(env) })).stdout.toString('utf8').trim();
}
