// SSH commit signatures (`git config gpg.format ssh`): OpenSSH's sshsig format (PROTOCOL.sshsig),
// parsed strictly and verified with Node's crypto alone. Key types as git and ssh-keygen support
// them: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa keys with rsa-sha2-256/512 signatures
// (SHA-1 `ssh-rsa` signatures are refused by name), and the FIDO security-key types
// sk-ssh-ed25519@openssh.com and sk-ecdsa-sha2-nistp256@openssh.com (PROTOCOL.u2f), whose
// signatures must assert user presence, as `ssh-keygen -Y verify` demands by default.
import type { KeyObject } from 'node:crypto';
import { createHash, createPublicKey, verify } from 'node:crypto';

export const SSH_ARMOR_BEGIN = '-----BEGIN SSH SIGNATURE-----';
const SSH_ARMOR_END = '-----END SSH SIGNATURE-----';
const MAGIC = Buffer.from('SSHSIG', 'ascii');
/** git signs and verifies commits in this namespace; `ssh-keygen -Y sign -n file` signs in another. */
export const GIT_NAMESPACE = 'git';
const HASHES = new Set(['sha256', 'sha512']);
// Below this an RSA key is weak by today's standards; ssh-keygen's default is 3072.
const MIN_RSA_BITS = 2048;

const SK_ED25519 = 'sk-ssh-ed25519@openssh.com';
const SK_ECDSA = 'sk-ecdsa-sha2-nistp256@openssh.com';
// The authenticator's flag that someone touched it when it signed.
const USER_PRESENT = 0x01;

const CURVES = {
  'ecdsa-sha2-nistp256': { curve: 'nistp256', jwk: 'P-256', hash: 'sha256', bytes: 32 },
  'ecdsa-sha2-nistp384': { curve: 'nistp384', jwk: 'P-384', hash: 'sha384', bytes: 48 },
  'ecdsa-sha2-nistp521': { curve: 'nistp521', jwk: 'P-521', hash: 'sha512', bytes: 66 },
} as const;
type EcdsaType = keyof typeof CURVES;

/** A public key from an OpenSSH key line or an sshsig blob, ready to verify with. */
export interface SshPublicKey {
  readonly type: string;
  /** The wire-format key blob: what a signature names its key by. */
  readonly blob: Buffer;
  /** `SHA256:<base64 without padding>` of the blob, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  readonly comment: string;
  readonly keyObject: KeyObject;
  /** Security keys only: the FIDO application the key is bound to (usually "ssh:"), signed over. */
  readonly application?: string;
}

/** The fields of one sshsig blob; `signedData` is what the signature covers, given the payload. */
export interface SshSignature {
  readonly publicKey: SshPublicKey;
  readonly namespace: string;
  /** Opaque, but signed over as it stands. */
  readonly reserved: Buffer;
  readonly hashAlgorithm: 'sha256' | 'sha512';
  readonly signatureType: string;
  readonly signature: Buffer;
  /** Security-key signatures only: the authenticator's flags and signature counter, signed over. */
  readonly securityKey?: { readonly flags: number; readonly counter: number };
}

export function sshFingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** True when the text is an OpenSSH public key line rather than something else (an armored OpenPGP key). */
export function looksLikeSshPublicKey(text: string): boolean {
  return /^(ssh-|ecdsa-sha2-|sk-)\S+ [A-Za-z0-9+/]/.test(text.trim());
}

/**
 * One OpenSSH public key line, `type base64 [comment]`, as in a `.pub` file or git's
 * allowed_signers (without its principals). Throws an Error saying what is wrong.
 */
export function parseSshPublicKeyLine(text: string): SshPublicKey {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length !== 1) throw new Error(`expected one OpenSSH public key line, found ${lines.length}`);
  const [type, data, ...comment] = lines[0]!.split(/\s+/);
  if (!type || !data) throw new Error('expected "<type> <base64 key> [comment]"');
  const blob = strictBase64(data, 'the key');
  const key = parseKeyBlob(blob);
  if (key.type !== type) throw new Error(`the line says ${type} but its key is ${key.type}`);
  return { ...key, comment: comment.join(' ') };
}

/** Parses the armored sshsig blob strictly: any malformation, truncation or trailing byte throws. */
export function parseSshSignature(armored: string): SshSignature {
  const lines = armored.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  if (lines[0] !== SSH_ARMOR_BEGIN) throw new Error(`does not start with ${SSH_ARMOR_BEGIN}`);
  if (lines[lines.length - 1] !== SSH_ARMOR_END || lines.length < 3) throw new Error(`does not end with ${SSH_ARMOR_END}`);
  const r = new Reader(strictBase64(lines.slice(1, -1).join(''), 'the signature'), 'signature');
  if (!r.bytes(MAGIC.length).equals(MAGIC)) throw new Error('not an sshsig blob (no SSHSIG magic)');
  const version = r.uint32();
  if (version !== 1) throw new Error(`sshsig version ${version}, only version 1 is known`);
  const keyBlob = r.string();
  const namespace = r.string().toString('utf8');
  const reserved = r.string();
  const hashAlgorithm = r.string().toString('utf8');
  const signatureBlob = r.string();
  r.end();
  if (!HASHES.has(hashAlgorithm)) throw new Error(`hash algorithm "${hashAlgorithm}" (sha256 or sha512 expected)`);
  const s = new Reader(signatureBlob, 'signature field');
  const signatureType = s.string().toString('utf8');
  const signature = s.string();
  const securityKey = signatureType.startsWith('sk-') ? { flags: s.bytes(1)[0]!, counter: s.uint32() } : undefined;
  s.end();
  const publicKey = { ...parseKeyBlob(keyBlob), comment: '' };
  return { publicKey, namespace, reserved, hashAlgorithm: hashAlgorithm as 'sha256' | 'sha512', signatureType, signature, ...(securityKey ? { securityKey } : {}) };
}

/** The bytes an sshsig signature covers: the magic, the namespace, reserved, the hash name and H(payload). */
export function signedData(sig: SshSignature, payload: Uint8Array): Buffer {
  const digest = createHash(sig.hashAlgorithm).update(payload).digest();
  return Buffer.concat([MAGIC, sshString(sig.namespace), sshString(sig.reserved), sshString(sig.hashAlgorithm), sshString(digest)]);
}

/**
 * Checks the signature over `payload` with the key the signature names (the caller has already
 * matched that key against its trusted ones). Throws an Error saying why it does not verify.
 */
export function verifySshSignature(sig: SshSignature, payload: Uint8Array): void {
  const key = sig.publicKey;
  expectSignatureType(sig, key.type === 'ssh-rsa' ? ['rsa-sha2-256', 'rsa-sha2-512'] : [key.type]);
  const data = key.application === undefined ? signedData(sig, payload) : authenticatorData(sig, signedData(sig, payload));
  let ok: boolean;
  if (key.type === 'ssh-ed25519' || key.type === SK_ED25519) {
    ok = verify(null, data, key.keyObject, sig.signature);
  } else if (key.type === 'ssh-rsa') {
    // The key type is ssh-rsa whatever the hash; the signature type names the hash (expected
    // above: plain `ssh-rsa` there means SHA-1, which git refuses too).
    ok = verify(sig.signatureType === 'rsa-sha2-256' ? 'sha256' : 'sha512', data, key.keyObject, sig.signature);
  } else {
    const curve = CURVES[key.type === SK_ECDSA ? 'ecdsa-sha2-nistp256' : (key.type as EcdsaType)];
    const rs = ecdsaSignature(sig.signature, curve.bytes);
    ok = verify(curve.hash, data, { key: key.keyObject, dsaEncoding: 'ieee-p1363' }, rs);
  }
  if (!ok) throw new Error('the signature does not match the signed bytes');
}

/**
 * What a security key signs (PROTOCOL.u2f): SHA-256 of its application, its flags and counter,
 * and SHA-256 of the data. Without the user-presence flag nobody touched the key: refused.
 */
function authenticatorData(sig: SshSignature, data: Buffer): Buffer {
  const sk = sig.securityKey!;
  if ((sk.flags & USER_PRESENT) === 0) throw new Error('the security key did not assert user presence (no touch)');
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(sk.counter);
  const sha256 = (bytes: string | Buffer): Buffer => createHash('sha256').update(bytes).digest();
  return Buffer.concat([sha256(sig.publicKey.application!), Buffer.from([sk.flags]), counter, sha256(data)]);
}

function expectSignatureType(sig: SshSignature, allowed: readonly string[]): void {
  if (allowed.includes(sig.signatureType)) return;
  const why = sig.signatureType === 'ssh-rsa' ? ' (SHA-1 RSA signatures are refused; sign with rsa-sha2-256 or rsa-sha2-512)' : '';
  throw new Error(`a ${sig.publicKey.type} key cannot make a ${sig.signatureType} signature${why}`);
}

/** The wire-format key blob as a Node KeyObject (through JWK, which all three families take). */
function parseKeyBlob(blob: Buffer): Omit<SshPublicKey, 'comment'> {
  const r = new Reader(blob, 'public key');
  const type = r.string().toString('utf8');
  let jwk: Record<string, string>;
  if (type === 'ssh-ed25519' || type === SK_ED25519) {
    const x = r.string();
    if (x.length !== 32) throw new Error(`an ed25519 key of ${x.length} bytes (32 expected)`);
    jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(x) };
  } else if (type === 'ssh-rsa') {
    const e = unsigned(r.string());
    const n = unsigned(r.string());
    const bits = n.length * 8 - Math.clz32(n[0] ?? 0) + 24;
    if (bits < MIN_RSA_BITS) throw new Error(`an RSA key of ${bits} bits (at least ${MIN_RSA_BITS} expected)`);
    jwk = { kty: 'RSA', n: b64url(n), e: b64url(e) };
  } else if (type in CURVES || type === SK_ECDSA) {
    const curve = CURVES[type === SK_ECDSA ? 'ecdsa-sha2-nistp256' : (type as EcdsaType)];
    const name = r.string().toString('utf8');
    if (name !== curve.curve) throw new Error(`a ${type} key on curve ${name}`);
    const q = r.string();
    if (q.length !== 1 + 2 * curve.bytes || q[0] !== 0x04) throw new Error(`a ${type} point that is not an uncompressed ${curve.jwk} point`);
    jwk = { kty: 'EC', crv: curve.jwk, x: b64url(q.subarray(1, 1 + curve.bytes)), y: b64url(q.subarray(1 + curve.bytes)) };
  } else if (type.startsWith('sk-')) {
    throw new Error(`${type} security keys are not supported (${SK_ED25519} and ${SK_ECDSA} are)`);
  } else {
    throw new Error(`key type "${type}" is not supported (ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa and their sk- security-key forms)`);
  }
  const application = type.startsWith('sk-') ? r.string().toString('utf8') : undefined;
  r.end();
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: jwk, format: 'jwk' });
  } catch (err) {
    throw new Error(`an invalid ${type} key (${(err as Error).message})`);
  }
  return { type, blob, fingerprint: sshFingerprint(blob), keyObject, ...(application !== undefined ? { application } : {}) };
}

/** An SSH ECDSA signature (mpint r, mpint s) as the fixed-width r||s Node takes. */
function ecdsaSignature(blob: Buffer, width: number): Buffer {
  const r = new Reader(blob, 'ECDSA signature');
  const parts = [unsigned(r.string()), unsigned(r.string())];
  r.end();
  return Buffer.concat(
    parts.map((p) => {
      if (p.length > width) throw new Error('an ECDSA signature value wider than its curve');
      return Buffer.concat([Buffer.alloc(width - p.length), p]);
    }),
  );
}

/** An mpint's magnitude without the sign byte; a negative mpint is refused. */
function unsigned(mpint: Buffer): Buffer {
  if (mpint.length > 0 && (mpint[0]! & 0x80) !== 0) throw new Error('a negative integer where a positive one belongs');
  let i = 0;
  while (i < mpint.length - 1 && mpint[i] === 0) i++;
  return mpint.subarray(i);
}

function strictBase64(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  // Node's decoder skips what it does not understand: re-encoding tells a clean text from a mangled one.
  if (text === '' || bytes.toString('base64') !== text) throw new Error(`${what} is not valid base64`);
  return bytes;
}

function b64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

function sshString(value: string | Uint8Array): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** RFC 4251 wire data read front to back; reading past the end or leaving bytes behind throws. */
class Reader {
  private at = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  bytes(n: number): Buffer {
    if (this.at + n > this.buf.length) throw new Error(`the ${this.what} is truncated`);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  uint32(): number {
    return this.bytes(4).readUInt32BE(0);
  }

  string(): Buffer {
    return this.bytes(this.uint32());
  }

  end(): void {
    if (this.at !== this.buf.length) throw new Error(`the ${this.what} has ${this.buf.length - this.at} trailing bytes`);
  }
}
