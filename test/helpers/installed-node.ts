// A node as the Debian package leaves it, for the package tests (fake root) and the install check
// (this machine): the operator's /etc/duck/agent.yaml with its trust key, following a served
// channel, and a PATH without node, so the installed duck can only run on the node it carries.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestKey } from '../../examples/harness/keys.js';

/** Writes `<etc>/agent.yaml` and `<etc>/keys/root.asc`; returns the config's text. */
export async function writeOperatorConfig(etc: string, opts: { url: string; key: TestKey; stateDir: string }): Promise<string> {
  await mkdir(join(etc, 'keys'), { recursive: true });
  await writeFile(join(etc, 'keys/root.asc'), opts.key.armoredPublicKey);
  const config = [
    `channel: { url: ${JSON.stringify(opts.url)}, branch: main, interval: 60s }`,
    'group: production',
    'trust: { keys: [keys/root.asc] }',
    `stateDir: ${opts.stateDir}`,
    `overlay: ${join(etc, 'overlay.yaml')}`,
    '',
  ].join('\n');
  await writeFile(join(etc, 'agent.yaml'), config, { mode: 0o600 });
  return config;
}

/** An environment whose PATH holds only what the launcher needs (readlink, dirname): no node. */
export async function envWithoutNode(dir: string): Promise<NodeJS.ProcessEnv> {
  const bin = join(dir, 'path-without-node');
  await mkdir(bin, { recursive: true });
  for (const tool of ['readlink', 'dirname']) await symlink(`/usr/bin/${tool}`, join(bin, tool)).catch(() => undefined);
  return { PATH: bin, HOME: dir, LANG: 'C.UTF-8' };
}
