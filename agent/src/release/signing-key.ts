// The publisher's signing key for a release bot without GnuPG: an armored OpenPGP private key
// from a file (--key) or from the environment (DUCK_SIGNING_KEY, how CI systems hand out secrets).
import { readFile } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import { DuckError } from '../../../schemas/errors.js';

export const SIGNING_KEY_ENV = 'DUCK_SIGNING_KEY';

export interface SigningKey {
  readonly key: openpgp.PrivateKey;
  /** Full primary-key fingerprint, upper-case hex: what agents identify a signer by. */
  readonly fingerprint: string;
  /** The primary user id's name and e-mail address (for commit identities and signer names). */
  readonly name: string;
  readonly email: string;
  readonly armoredPublicKey: string;
}

export interface KeySource {
  /** --key: a file holding the armored private key. */
  readonly file?: string | undefined;
  /** --passphrase-env: the variable holding the key's passphrase. */
  readonly passphraseEnv?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
}

/** The key from --key, else from DUCK_SIGNING_KEY; null when neither is given. */
export async function loadSigningKey(source: KeySource): Promise<SigningKey | null> {
  let armored: string;
  let origin: string;
  if (source.file) {
    origin = source.file;
    armored = await readFile(source.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new DuckError('config', `${source.file}: cannot read the signing key (${err.code ?? err.message})`, { file: source.file });
    });
  } else if (source.env[SIGNING_KEY_ENV]?.trim()) {
    origin = `$${SIGNING_KEY_ENV}`;
    armored = source.env[SIGNING_KEY_ENV]!;
  } else {
    return null;
  }
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: armored });
  } catch (err) {
    throw new DuckError('config', `${origin}: not an armored OpenPGP private key (${(err as Error).message})`, { file: origin });
  }
  if (!key.isDecrypted()) key = await decrypt(key, origin, source);
  const user = await key.getPrimaryUser().catch(() => null);
  return {
    key,
    fingerprint: key.getFingerprint().toUpperCase(),
    name: user?.user.userID?.name || 'release-bot',
    email: user?.user.userID?.email || 'release-bot@duck.invalid',
    armoredPublicKey: key.toPublic().armor(),
  };
}

async function decrypt(key: openpgp.PrivateKey, origin: string, source: KeySource): Promise<openpgp.PrivateKey> {
  const variable = source.passphraseEnv;
  const passphrase = variable ? source.env[variable] : undefined;
  if (passphrase === undefined) {
    const hint = variable ? `$${variable} is not set` : 'pass --passphrase-env <VAR> naming the variable that holds its passphrase';
    throw new DuckError('config', `${origin}: the key is protected by a passphrase: ${hint}`, { file: origin });
  }
  try {
    return await openpgp.decryptKey({ privateKey: key, passphrase });
  } catch (err) {
    throw new DuckError('config', `${origin}: cannot unlock the key with $${variable} (${(err as Error).message})`, { file: origin });
  }
}

/**
 * A detached signature over the exact commit bytes, as `git commit -S` makes one. Binary, never
 * text mode: agents refuse text signatures, which would let line-ending changes verify.
 */
export async function signPayload(payload: Uint8Array, key: SigningKey): Promise<string> {
  return openpgp.sign({
    message: await openpgp.createMessage({ binary: payload }),
    signingKeys: key.key,
    detached: true,
    format: 'armored',
  });
}
