// Signing keys made at run time (DESIGN §6: no checked-in key blobs). Two kinds, because §3
// requires signatures from both `git commit -S` with GnuPG and openpgp.js to verify; the demo signs
// its channel with an openpgp.js one.
import { chmod, readFile } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import { makeTempDir, run } from './tmp.js';

export interface TestKey {
  kind: 'openpgp' | 'gpg' | 'ssh';
  name: string;
  /** Full primary-key fingerprint, uppercase hex, 40 characters. */
  fingerprint: string;
  armoredPublicKey: string;
}

export interface OpenpgpTestKey extends TestKey {
  kind: 'openpgp';
  armoredPrivateKey: string;
}

export interface GpgTestKey extends TestKey {
  kind: 'gpg';
  /** A private GNUPGHOME holding the secret key; its gpg-agent starts on first use. */
  gnupgHome: string;
}

export function testEmail(name: string): string {
  return `${name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}@test.invalid`;
}

export async function makeOpenpgpKey(
  name: string,
  opts: { expiresInSeconds?: number; date?: Date } = {},
): Promise<OpenpgpTestKey> {
  // v4 EdDSA-legacy keys: openpgp.js's `curve25519` type makes RFC 9580 Ed25519 keys that
  // GnuPG 2.2 cannot import, and the tests check signatures with both implementations.
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name, email: testEmail(name) }],
    format: 'armored',
    ...(opts.expiresInSeconds !== undefined ? { keyExpirationTime: opts.expiresInSeconds } : {}),
    ...(opts.date ? { date: opts.date } : {}),
  });
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return {
    kind: 'openpgp',
    name,
    fingerprint: key.getFingerprint().toUpperCase(),
    armoredPublicKey: publicKey,
    armoredPrivateKey: privateKey,
  };
}

export async function revokeOpenpgpKey(key: OpenpgpTestKey): Promise<OpenpgpTestKey> {
  const privateKey = await openpgp.readPrivateKey({ armoredKey: key.armoredPrivateKey });
  // A key created in the future (opts.date) cannot be revoked before it exists.
  const created = privateKey.getCreationTime();
  const date = created > new Date() ? created : new Date();
  const revoked = await openpgp.revokeKey({ key: privateKey, date, format: 'armored' });
  return { ...key, armoredPublicKey: revoked.publicKey, armoredPrivateKey: revoked.privateKey };
}

/** Runs gpg with its own home; `--batch` and loopback pinentry so nothing ever prompts. */
export function gpg(gnupgHome: string, args: readonly string[], input?: string | Uint8Array) {
  return run('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', ...args], {
    env: { ...process.env, GNUPGHOME: gnupgHome },
    ...(input !== undefined ? { input } : {}),
  });
}

async function makeGnupgHome(): Promise<string> {
  const home = await makeTempDir('duck-gnupg-');
  // gpg warns about (and some versions refuse) a home readable by others.
  await chmod(home, 0o700);
  return home;
}

export async function makeGpgKey(name: string): Promise<GpgTestKey> {
  const gnupgHome = await makeGnupgHome();
  await gpg(gnupgHome, ['--passphrase', '', '--quick-gen-key', `${name} <${testEmail(name)}>`, 'ed25519', 'sign', 'never']);
  const listing = (await gpg(gnupgHome, ['--with-colons', '--list-secret-keys'])).stdout.toString('utf8');
  // The first fpr record follows the primary key's sec record.
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listing)?.[1];
  if (!fingerprint) throw new Error(`no fingerprint in gpg output:\n${listing}`);
  const armoredPublicKey = (await gpg(gnupgHome, ['--armor', '--export', fingerprint])).stdout.toString('utf8');
  return { kind: 'gpg', name, fingerprint, armoredPublicKey, gnupgHome };
}

/**
 * A fresh GNUPGHOME that has imported the given public keys, for `git verify-commit` /
 * `git log --show-signature` as an independent check of what the helpers (and the agent) sign.
 */
export async function makeVerifierHome(keys: readonly TestKey[]): Promise<string> {
  const home = await makeGnupgHome();
  for (const key of keys) await gpg(home, ['--import'], key.armoredPublicKey);
  return home;
}

/** Stops the gpg-agent a GnuPG home started, so agents do not pile up across test runs. */
export async function stopGpgAgent(gnupgHome: string): Promise<void> {
  await run('gpgconf', ['--kill', 'gpg-agent'], {
    env: { ...process.env, GNUPGHOME: gnupgHome },
    allowFailure: true,
  });
}

/** An SSH signing key made by ssh-keygen (git's gpg.format=ssh). */
export interface SshTestKey extends TestKey {
  kind: 'ssh';
  /** `SHA256:<base64>`, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** For SSH keys, the OpenSSH public key line (`ssh-ed25519 AAAA… name@test.invalid`), a `.pub` file's content. */
  armoredPublicKey: string;
  /** The unencrypted private key file: git's user.signingkey. */
  privateKeyFile: string;
}

export type SshKeyType = 'ed25519' | 'rsa' | 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521';

const SSH_KEYGEN_TYPE: Record<SshKeyType, readonly string[]> = {
  ed25519: ['-t', 'ed25519'],
  rsa: ['-t', 'rsa', '-b', '3072'],
  'ecdsa-p256': ['-t', 'ecdsa', '-b', '256'],
  'ecdsa-p384': ['-t', 'ecdsa', '-b', '384'],
  'ecdsa-p521': ['-t', 'ecdsa', '-b', '521'],
};

/** A fresh SSH key pair in its own temp dir; the fingerprint is ssh-keygen's own, an independent check. */
export async function makeSshKey(name: string, type: SshKeyType = 'ed25519'): Promise<SshTestKey> {
  const dir = await makeTempDir('duck-ssh-key-');
  await chmod(dir, 0o700);
  const privateKeyFile = `${dir}/id`;
  await run('ssh-keygen', ['-q', ...SSH_KEYGEN_TYPE[type], '-N', '', '-C', testEmail(name), '-f', privateKeyFile]);
  const armoredPublicKey = await readFile(`${privateKeyFile}.pub`, 'utf8');
  const listing = (await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${privateKeyFile}.pub`])).stdout.toString('utf8');
  const fingerprint = /(SHA256:[A-Za-z0-9+/]+)/.exec(listing)?.[1];
  if (!fingerprint) throw new Error(`no fingerprint in ssh-keygen output: ${listing}`);
  return { kind: 'ssh', name, fingerprint, armoredPublicKey, privateKeyFile };
}
