import type { ChannelFile, ChannelSigner } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import type { TrustedKey } from './signature.js';
import { readTrustedKey, sshTrustedKey } from './signature.js';
import type { CommitTree } from './commit-tree.js';
import { thresholdRulesOf } from './threshold-rules.js';

export const CHANNEL_FILE = 'channel.yaml';

/**
 * The trust policy in force: the agent's own keys (always trusted) plus the signers named by the
 * channel.yaml of the last accepted commit. `identity` names the exact bytes it came from, so a
 * commit whose channel.yaml and key files are the same cannot change the policy.
 */
export interface TrustPolicy {
  readonly keys: readonly TrustedKey[];
  readonly channelVersion: number;
  readonly identity: string;
  readonly channel: ChannelFile | null;
}

export function agentOnlyPolicy(agentKeys: readonly TrustedKey[]): TrustPolicy {
  return { keys: agentKeys, channelVersion: 0, identity: 'none', channel: null };
}

/**
 * The key files channel.yaml names. An inline `ssh` key is part of channel.yaml's own bytes, so
 * only `key` entries name files of their own.
 */
export function signerKeyFiles(channel: ChannelFile | null): string[] {
  return (channel?.signers ?? []).flatMap((s) => (s.key === undefined ? [] : [s.key]));
}

/** The blob ids of channel.yaml and of every key file it names: cheap to compute per commit. */
export async function policyIdentity(tree: CommitTree, channel: ChannelFile | null): Promise<string> {
  const channelBlob = await tree.blobId(CHANNEL_FILE);
  if (channelBlob === null) return 'none';
  const keyBlobs = await Promise.all(signerKeyFiles(channel).map(async (file) => `${file}=${await tree.blobId(file)}`));
  return [channelBlob, ...keyBlobs].join(';');
}

/** Reads the policy a commit would put in force; throws `invalid` or `unsafe-path` when it cannot. */
export async function readPolicy(tree: CommitTree, agentKeys: readonly TrustedKey[]): Promise<TrustPolicy> {
  const channel = await tree.readYaml('channel', CHANNEL_FILE);
  // Checked here, where the policy is read, so lint and the walk refuse a bad rule alike.
  thresholdRulesOf(channel);
  const channelKeys: TrustedKey[] = [];
  for (const [index, signer] of channel.signers.entries()) {
    channelKeys.push(await signerKey(tree, signer, index));
  }
  const seen = new Set(agentKeys.map((k) => k.fingerprint));
  const keys = [...agentKeys, ...channelKeys.filter((k) => !seen.has(k.fingerprint) && seen.add(k.fingerprint))];
  return { keys, channelVersion: channel.version, identity: await policyIdentity(tree, channel), channel };
}

/** A channel.yaml signer's key: a key file in the channel (OpenPGP or OpenSSH), or an inline OpenSSH key. */
async function signerKey(tree: CommitTree, signer: ChannelSigner, index: number): Promise<TrustedKey> {
  // The schema holds a signer to exactly one of key and ssh.
  if (signer.key === undefined) return { ...sshTrustedKey(signer.ssh ?? '', CHANNEL_FILE, signer.name, 'channel', `/signers/${index}/ssh`), scope: signer.scope ?? 'all' };
  const text = new TextDecoder().decode(await tree.readFile(signer.key, `/signers/${index}/key`));
  return { ...(await readTrustedKey(text, signer.key, signer.name, 'channel')), scope: signer.scope ?? 'all' };
}

export function assertVersionGrows(previous: TrustPolicy, next: TrustPolicy, commit: string): void {
  if (previous.identity !== 'none' && next.channelVersion <= previous.channelVersion) {
    throw new DuckError(
      'trust-rollback',
      `commit ${commit.slice(0, 12)}: ${CHANNEL_FILE} changed but its version ${next.channelVersion} does not exceed ${previous.channelVersion}`,
      { commit, file: CHANNEL_FILE, field: '/version' },
    );
  }
}
