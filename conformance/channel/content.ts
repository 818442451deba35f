// What a case writes into its channel's work tree (DESIGN §2): channel.yaml and its signer keys,
// releases whose release.yaml lists each file's sha256 (or a wrong one), the group file, and raw
// files or links for the cases that break a rule on purpose.
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { OpenpgpTestKey, SshKeyType, SshTestKey } from '../../examples/harness/keys.js';
import type { CaseChannel } from './case-channel.js';

/**
 * The OpenPGP keys a case names: `root` is the one the client trusts at init; the others it must
 * learn. `alice`, `bob` and `carol` are people for the two-person rule; `promoter` a promotion-only bot.
 */
export const KEY_NAMES = ['root', 'bot', 'stranger', 'alice', 'bob', 'carol', 'promoter'] as const;
/**
 * The SSH keys (git's gpg.format=ssh), made by ssh-keygen at run time: `ssh-dev` and `ssh-ops`
 * (another key type, as a client must verify more than Ed25519) for channel.yaml, `ssh-stranger` listed nowhere.
 */
export const SSH_KEY_TYPES = { 'ssh-dev': 'ed25519', 'ssh-ops': 'ecdsa-p256', 'ssh-stranger': 'ed25519' } as const satisfies Record<string, SshKeyType>;
export type OpenpgpKeyName = (typeof KEY_NAMES)[number];
export type SshKeyName = keyof typeof SSH_KEY_TYPES;
export type KeyName = OpenpgpKeyName | SshKeyName;
export type CaseKey = OpenpgpTestKey | SshTestKey;
export type CaseKeys = Readonly<Record<OpenpgpKeyName, OpenpgpTestKey> & Record<SshKeyName, SshTestKey>>;

/**
 * A channel.yaml signer: a key by its name (its key file, `keys/<name>.asc` or `.pub`), or with
 * `scope: promote` (DESIGN §3, promotion-only keys), or an SSH key `inline` in the `ssh` field.
 */
export type SignerEntry = KeyName | { readonly name: KeyName; readonly scope?: 'promote'; readonly inline?: true };

/** A channel.yaml `thresholds` rule: `count` distinct signers of `signers` (default: all) for changes to `paths`. */
export interface ThresholdRule {
  readonly paths: readonly string[];
  readonly count: number;
  readonly signers?: readonly KeyName[];
}

/** One change to the work tree. The group is always `production`, the one every client follows. */
export type Edit =
  | {
      readonly channelYaml: {
        readonly version: number;
        readonly signers: readonly SignerEntry[];
        readonly freshness?: string;
        readonly thresholds?: readonly ThresholdRule[];
        /** `promotion.floor`: app -> the lowest version a promote key may set. */
        readonly floor?: Readonly<Record<string, string>>;
      };
    }
  | {
      readonly release: {
        readonly app: string;
        readonly version: string;
        /** `digest`: release.yaml lists a wrong sha256 for compose.yaml. */
        readonly corrupt?: 'digest';
        /** One more file of this many zero bytes (cheap to send: it packs to almost nothing). */
        readonly bigFileBytes?: number;
      };
    }
  | { readonly group: Readonly<Record<string, string>> }
  | { readonly write: { readonly path: string; readonly content: string } }
  | { readonly symlink: { readonly path: string; readonly target: string } };

const COMPOSE = 'services:\n  web:\n    image: duck-example/hello:1.0.0\n';

const sha256 = (content: string | Uint8Array): string => createHash('sha256').update(content).digest('hex');

/** The key file channel.yaml names: an OpenPGP key armored, an SSH key as its `.pub` line. */
const keyFile = (key: CaseKey): string => `keys/${key.name}.${key.kind === 'ssh' ? 'pub' : 'asc'}`;

function inlineSshKey(key: CaseKey): string {
  if (key.kind !== 'ssh') throw new Error(`channelYaml: signer ${key.name} is an OpenPGP key; only an SSH key can be inline (\`ssh\`)`);
  return key.armoredPublicKey.trim();
}

export async function applyEdit(ch: CaseChannel, keys: CaseKeys, edit: Edit): Promise<void> {
  if ('channelYaml' in edit) {
    const { version, signers, freshness, thresholds, floor } = edit.channelYaml;
    const entries = signers.map((s): Exclude<SignerEntry, KeyName> => (typeof s === 'string' ? { name: s } : s));
    for (const { name, inline } of entries) if (!inline) await ch.write(keyFile(keys[name]), keys[name].armoredPublicKey);
    const doc = {
      version,
      signers: entries.map(({ name, inline, ...scope }) => ({ name, ...(inline ? { ssh: inlineSshKey(keys[name]) } : { key: keyFile(keys[name]) }), ...scope })),
      ...(freshness ? { freshness } : {}),
      ...(thresholds ? { thresholds } : {}),
      ...(floor ? { promotion: { floor } } : {}),
    };
    return ch.write('channel.yaml', stringify(doc));
  }
  if ('release' in edit) {
    const { app, version, corrupt, bigFileBytes } = edit.release;
    const dir = `releases/${app}/${version}`;
    const files: Record<string, string | Uint8Array> = { 'compose.yaml': COMPOSE, ...(bigFileBytes ? { 'big.bin': new Uint8Array(bigFileBytes) } : {}) };
    const digests: Record<string, string> = {};
    for (const [path, content] of Object.entries(files)) {
      await ch.write(`${dir}/${path}`, content);
      digests[path] = sha256(content);
    }
    if (corrupt === 'digest') digests['compose.yaml'] = sha256('something else');
    return ch.write(`${dir}/release.yaml`, stringify({ app, version, notes: `${app} ${version}`, files: digests }));
  }
  if ('group' in edit) return ch.write('groups/production.yaml', stringify({ apps: edit.group }));
  if ('write' in edit) return ch.write(edit.write.path, edit.write.content);
  return ch.symlink(edit.symlink.path, edit.symlink.target);
}
