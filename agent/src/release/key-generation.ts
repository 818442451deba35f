// A publisher's first signing key without GnuPG: `duck release keygen` makes it with openpgp.js.
import { existsSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
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
 * Writes the private key (mode 0600, in a directory only its owner may enter when it is new) and
 * the public key, never over an existing file: a key file replaced by mistake is a signer lost.
 * Both are checked first, so a refusal leaves neither file half-made.
 */
export async function writeKeyPair(key: NewSigningKey, files: { privateFile: string; publicFile: string }): Promise<void> {
  const { privateFile, publicFile } = files;
  if (publicFile === privateFile) throw new DuckError('usage', `${publicFile}: the public key file must differ from the private one: one is published, the other never`, { file: publicFile });
  for (const file of [privateFile, publicFile]) {
    if (existsSync(file)) throw new DuckError('usage', `${file}: already exists; nothing was written (pick another file, or remove it first)`, { file });
  }
  await mkdir(dirname(privateFile), { recursive: true, mode: 0o700 });
  await mkdir(dirname(publicFile), { recursive: true });
  await writeNewFile(privateFile, key.armoredPrivateKey, 0o600);
  await writeNewFile(publicFile, key.armoredPublicKey, 0o644);
}

/** The mode is set as the file is made, so a secret is never readable by others even for a moment. */
async function writeNewFile(file: string, text: string, mode: number): Promise<void> {
  let handle;
  try {
    handle = await open(file, 'wx', mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DuckError('io', `${file}: cannot be written (${code ?? (err as Error).message})`, { file });
  }
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}
