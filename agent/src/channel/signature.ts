import type * as openpgp from 'openpgp';
import { DuckError } from '../../../schemas/errors.js';
import type { SignerScope } from '../../../schemas/index.js';
import type { SshPublicKey } from './ssh-signature.js';
import { GIT_NAMESPACE, looksLikeSshPublicKey, parseSshPublicKeyLine, parseSshSignature, SSH_ARMOR_BEGIN, verifySshSignature } from './ssh-signature.js';

interface TrustedKeyBase {
  /**
   * What the key is trusted by, never a short id or a name: an OpenPGP key's full primary-key
   * fingerprint (upper-case hex), an SSH key's `SHA256:<base64>` as `ssh-keygen -l` prints it.
   */
  readonly fingerprint: string;
  readonly name: string;
  /** Where the key came from: the agent's own config, or a channel.yaml signer entry. */
  readonly source: 'agent' | 'channel';
  /** What the key's commits may change (channel.yaml `scope`); the agent's own keys are always `all`. */
  readonly scope: SignerScope;
}

export interface OpenpgpTrustedKey extends TrustedKeyBase {
  readonly kind: 'openpgp';
  readonly key: openpgp.PublicKey;
}

export interface SshTrustedKey extends TrustedKeyBase {
  readonly kind: 'ssh';
  readonly key: SshPublicKey;
}

/** A key trusted under a policy: an OpenPGP certificate or an SSH public key. */
export type TrustedKey = OpenpgpTrustedKey | SshTrustedKey;

export interface VerifiedSignature {
  readonly signer: TrustedKey;
  /** The (sub)key id that made the signature, hex: needed to re-check that key's validity later. */
  readonly keyId: string;
  readonly signedAt: Date | null;
}

// openpgp.js is a fifth of a second of start-up: loaded when a key or a signature is first read, so
// a command that verifies nothing (duck status, duck check of an unchanged tip) never pays for it.
const loadOpenpgp = (): Promise<typeof openpgp> => import('openpgp');

// Signers' clocks run a little ahead of nodes'; a signature this far "in the future" still counts.
const CLOCK_SKEW_MS = 5 * 60_000;

export async function readPublicKey(armored: string, file: string): Promise<openpgp.PublicKey> {
  const openpgp = await loadOpenpgp();
  let keys: openpgp.Key[];
  try {
    keys = await openpgp.readKeys({ armoredKeys: armored });
  } catch (err) {
    throw new DuckError('invalid', `${file}: not an armored OpenPGP public key (${(err as Error).message})`, { file });
  }
  if (keys.length !== 1) throw new DuckError('invalid', `${file}: holds ${keys.length} keys, expected exactly one`, { file });
  const key = keys[0]!;
  return key.isPrivate() ? key.toPublic() : (key as openpgp.PublicKey);
}

export function fingerprintOf(key: openpgp.Key): string {
  return key.getFingerprint().toUpperCase();
}

/**
 * A trusted key from a key file's text, told apart by content: an armored OpenPGP public key, or
 * one OpenSSH public key line (a `.pub` file). Throws `invalid` naming the file.
 */
export async function readTrustedKey(text: string, file: string, name: string, source: TrustedKey['source']): Promise<TrustedKey> {
  if (!looksLikeSshPublicKey(text)) {
    const key = await readPublicKey(text, file);
    return { kind: 'openpgp', fingerprint: fingerprintOf(key), name, source, scope: 'all', key };
  }
  return sshTrustedKey(text, file, name, source);
}

/** An SSH key from one OpenSSH public key line (a `.pub` file, or channel.yaml's inline `ssh`). */
export function sshTrustedKey(line: string, file: string, name: string, source: TrustedKey['source'], field?: string): SshTrustedKey {
  let key: SshPublicKey;
  try {
    key = parseSshPublicKeyLine(line);
  } catch (err) {
    const where = field ? `${file}: ${field}` : file;
    throw new DuckError('invalid', `${where}: not an OpenSSH public key (${(err as Error).message})`, { file, ...(field ? { field } : {}) });
  }
  return { kind: 'ssh', fingerprint: key.fingerprint, name, source, scope: 'all', key };
}

/**
 * Checks a detached signature over the exact signed bytes against the trusted keys.
 * Key validity (expiry, revocation) is judged at `now`, the agent's clock — never at a date the
 * signature itself carries. Throws a DuckError with the typed refusal reason; returns the signer.
 */
export async function verifyDetached(
  payload: Uint8Array,
  armoredSignature: string,
  trusted: readonly TrustedKey[],
  now: Date,
  commit: string,
): Promise<VerifiedSignature> {
  if (armoredSignature.startsWith(SSH_ARMOR_BEGIN)) return verifySsh(payload, armoredSignature, trusted, commit);
  const short = commit.slice(0, 12);
  const openpgp = await loadOpenpgp();
  let signature: openpgp.Signature;
  try {
    signature = await openpgp.readSignature({ armoredSignature });
  } catch (err) {
    throw new DuckError('bad-signature', `commit ${short}: unreadable signature (${(err as Error).message})`, { commit });
  }
  const packets = signature.packets.filterByTag(openpgp.enums.packet.signature) as unknown as openpgp.SignaturePacket[];
  const packet = packets[0];
  if (packets.length !== 1 || !packet) {
    throw new DuckError('bad-signature', `commit ${short}: expected one signature packet, found ${packets.length}`, { commit });
  }
  // git signs the raw object bytes; a text-mode signature would let line-ending changes verify.
  if (packet.signatureType !== openpgp.enums.signature.binary) {
    throw new DuckError('bad-signature', `commit ${short}: signature is not a binary-document signature`, { commit });
  }
  const issuer = issuerOf(packet);
  const signer = trusted.find((t): t is OpenpgpTrustedKey => t.kind === 'openpgp' && t.key.getKeys(packet.issuerKeyID).length > 0);
  if (!signer) {
    throw new DuckError('untrusted-signer', `commit ${short}: signed by ${issuer}, which the trust policy does not list`, {
      commit,
      fingerprint: issuer,
    });
  }
  const keyId = packet.issuerKeyID.toHex();
  await assertKeyUsableAt(signer, keyId, now, commit);
  try {
    const message = await openpgp.createMessage({ binary: payload });
    const result = await openpgp.verify({
      message,
      signature,
      verificationKeys: [signer.key],
      date: new Date(now.getTime() + CLOCK_SKEW_MS),
      format: 'binary',
      expectSigned: true,
    });
    await result.signatures[0]!.verified;
  } catch (err) {
    throw new DuckError('bad-signature', `commit ${short}: signature by ${signer.fingerprint} does not verify (${(err as Error).message})`, {
      commit,
      fingerprint: signer.fingerprint,
      keyId,
    });
  }
  return { signer, keyId, signedAt: packet.created };
}

/**
 * An sshsig signature (git's gpg.format=ssh): namespace `git`, signed by a trusted key. The key the
 * signature carries is matched by its blob's fingerprint, never by its comment. SSH keys have no
 * expiry or revocation of their own: they stop counting when channel.yaml drops them.
 */
function verifySsh(payload: Uint8Array, armored: string, trusted: readonly TrustedKey[], commit: string): VerifiedSignature {
  const short = commit.slice(0, 12);
  let sig;
  try {
    sig = parseSshSignature(armored);
  } catch (err) {
    throw new DuckError('bad-signature', `commit ${short}: unreadable SSH signature (${(err as Error).message})`, { commit });
  }
  const fingerprint = sig.publicKey.fingerprint;
  if (sig.namespace !== GIT_NAMESPACE) {
    throw new DuckError('bad-signature', `commit ${short}: SSH signature made for namespace "${sig.namespace}", not "${GIT_NAMESPACE}" (not a commit signature)`, {
      commit,
      fingerprint,
      keyId: fingerprint,
    });
  }
  const signer = trusted.find((t) => t.kind === 'ssh' && t.fingerprint === fingerprint);
  if (!signer) {
    throw new DuckError('untrusted-signer', `commit ${short}: signed by SSH key ${fingerprint}, which the trust policy does not list`, { commit, fingerprint });
  }
  try {
    verifySshSignature(sig, payload);
  } catch (err) {
    throw new DuckError('bad-signature', `commit ${short}: SSH signature by ${fingerprint} does not verify (${(err as Error).message})`, {
      commit,
      fingerprint,
      keyId: fingerprint,
    });
  }
  return { signer, keyId: fingerprint, signedAt: null };
}

/** Expiry and revocation, judged at the agent's clock; a cached signature is re-checked with this. */
export async function assertKeyUsableAt(signer: TrustedKey, keyId: string, now: Date, commit: string): Promise<void> {
  if (signer.kind === 'ssh') return;
  try {
    // openpgp's KeyID class is not exported as a value: take the id from the key itself.
    const keyID = signer.key.getKeys().find((k) => k.getKeyID().toHex() === keyId)?.getKeyID();
    if (!keyID) throw new Error(`no key ${keyId.toUpperCase()} in this certificate`);
    await signer.key.getSigningKey(keyID, now);
  } catch (err) {
    const why = (err as Error).message.replace(/^Could not find valid signing key packet in key [0-9a-f]+: /i, '');
    throw new DuckError(
      'untrusted-signer',
      `commit ${commit.slice(0, 12)}: key ${signer.fingerprint} (${signer.name}) is not valid now: ${why}`,
      { commit, fingerprint: signer.fingerprint },
    );
  }
}

function issuerOf(packet: openpgp.SignaturePacket): string {
  if (packet.issuerFingerprint) return Buffer.from(packet.issuerFingerprint).toString('hex').toUpperCase();
  return `key id ${packet.issuerKeyID.toHex().toUpperCase()}`;
}
