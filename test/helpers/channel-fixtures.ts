// Well-formed channel content (DESIGN §2) for tests: channel.yaml with its signer keys, group
// files, and releases whose release.yaml lists the sha256 of every file.
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { Channel, Signer } from './channel-builder.js';
import type { TestKey } from '../../examples/harness/keys.js';

export function sha256(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

export async function writeChannelYaml(
  ch: Channel,
  opts: { version: number; signers: readonly TestKey[]; freshness?: string },
): Promise<void> {
  for (const key of opts.signers) await ch.write(`keys/${key.name}.asc`, key.armoredPublicKey);
  const doc: Record<string, unknown> = {
    version: opts.version,
    signers: opts.signers.map((k) => ({ name: k.name, key: `keys/${k.name}.asc` })),
  };
  if (opts.freshness) doc.freshness = opts.freshness;
  await ch.write('channel.yaml', stringify(doc));
}

export async function writeGroup(ch: Channel, group: string, apps: Record<string, string>, extra: Record<string, unknown> = {}): Promise<void> {
  await ch.write(`groups/${group}.yaml`, stringify({ apps, ...extra }));
}

export const DEFAULT_COMPOSE = 'services:\n  web:\n    image: duck-example/hello:1.0.0\n';

/** Writes releases/<app>/<version>/ with its files and a release.yaml listing their sha256. */
export async function writeRelease(
  ch: Channel,
  app: string,
  version: string,
  files: Record<string, string | Uint8Array> = { 'compose.yaml': DEFAULT_COMPOSE },
  extra: Record<string, unknown> = {},
): Promise<void> {
  const dir = `releases/${app}/${version}`;
  const digests: Record<string, string> = {};
  for (const [path, content] of Object.entries(files)) {
    await ch.write(`${dir}/${path}`, content);
    digests[path] = sha256(content);
  }
  await ch.write(`${dir}/release.yaml`, stringify({ app, version, notes: `${app} ${version}`, files: digests, ...extra }));
}

/** A complete first channel: channel.yaml signed-for by `signers`, group `production` running shop@1.0.0. */
export async function writeBasicChannel(ch: Channel, signers: readonly TestKey[], opts: { version?: number; freshness?: string } = {}): Promise<void> {
  await writeChannelYaml(ch, { version: opts.version ?? 1, signers, ...(opts.freshness ? { freshness: opts.freshness } : {}) });
  await writeRelease(ch, 'shop', '1.0.0');
  await writeGroup(ch, 'production', { shop: '1.0.0' });
}

/** writeBasicChannel with `signer` as its one signer, committed signed by it and published; the commit. */
export async function publishBasicChannel(ch: Channel, signer: Exclude<Signer, null>): Promise<string> {
  await writeBasicChannel(ch, [signer]);
  const oid = await ch.commit('shop 1.0.0 in production', signer);
  await ch.publish();
  return oid;
}
