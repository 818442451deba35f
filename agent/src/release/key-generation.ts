// A publisher's first signing key without GnuPG: `duck release keygen` makes it with openpgp.js.
import { open } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import { DuckError } from '../../../schemas/errors.js';

export interface NewSigningKey {
  readonly armoredPrivateKey: string;
  readonly armoredPublicKey: string;
  /** Full primary-key fingerprint, upper-case hex: what channel.yaml and agents identify it by. */
  readonly fingerprint: string;
}

/**
 * A signing-only EdDSA key (v4, Ed25519 "legacy"): openpgp.js's newer RFC 9580 Ed25519 keys are
 * ones GnuPG 2.2 — still Debian's — cannot import, and maintainers check signatures with both.
 */
export async function generateSigningKey(opts: { name: string; email?: string | undefined; passphrase?: string | undefined }): Promise<NewSigningKey> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: opts.name, ...(opts.email ? { email: opts.email } : {}) }],
    format: 'armored',
    ...(opts.passphrase ? { passphrase: opts.passphrase } : {}),
  });
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return { armoredPrivateKey: privateKey, armoredPublicKey: publicKey, fingerprint: key.getFingerprint().toUpperCase() };
}

/**
 * Writes `text` to a new file with `mode`, never over an existing one: a key file replaced by
 * mistake is a signer lost. The mode is set at creation, so the secret is never readable by others.
 */
export async function writeNewFile(file: string, text: string, mode: number, what: string): Promise<void> {
  let handle;
  try {
    handle = await open(file, 'wx', mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' ? 'already exists; nothing was overwritten' : `cannot be written (${code ?? (err as Error).message})`;
    throw new DuckError(code === 'EEXIST' ? 'usage' : 'io', `${file}: ${why} (${what})`, { file });
  }
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}
