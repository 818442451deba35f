// The sshsig parser's strictness (PROTOCOL.sshsig) and the verification over the exact signed
// bytes, with signatures built here from Node key pairs; real ssh-keygen signatures are checked
// through `duck verify` in test/integration/channel-ssh.test.ts.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SshSignature } from '../../agent/src/channel/ssh-signature.js';
import { parseSshPublicKeyLine, parseSshSignature, signedData, verifySshSignature } from '../../agent/src/channel/ssh-signature.js';

const PAYLOAD = Buffer.from('tree 0000\n\nrelease shop 1.2.0\n');

function str(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function mpint(bytes: Buffer): Buffer {
  let b = bytes;
  while (b.length > 1 && b[0] === 0) b = b.subarray(1);
  return str(b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function armor(blob: Buffer): string {
  const b64 = blob.toString('base64');
  const lines = b64.match(/.{1,70}/g)!;
  return ['-----BEGIN SSH SIGNATURE-----', ...lines, '-----END SSH SIGNATURE-----', ''].join('\n');
}

interface Made {
  keyBlob: Buffer;
  sigType: string;
  signRaw(data: Buffer): Buffer;
  /** After the signature in the signature field: a security key's flags and counter. */
  trailer?: Buffer;
}

function ed25519(): Made {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return { keyBlob: Buffer.concat([str('ssh-ed25519'), str(x)]), sigType: 'ssh-ed25519', signRaw: (d) => sign(null, d, privateKey) };
}

function ecdsaP256(): Made {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const q = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  return {
    keyBlob: Buffer.concat([str('ecdsa-sha2-nistp256'), str('nistp256'), str(q)]),
    sigType: 'ecdsa-sha2-nistp256',
    signRaw: (d) => {
      const rs = sign('sha256', d, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      return Buffer.concat([mpint(rs.subarray(0, 32)), mpint(rs.subarray(32))]);
    },
  };
}

function rsa(sigType = 'rsa-sha2-512', bits = 2048): Made {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    keyBlob: Buffer.concat([str('ssh-rsa'), mpint(Buffer.from(jwk.e!, 'base64url')), mpint(Buffer.from(jwk.n!, 'base64url'))]),
    sigType,
    signRaw: (d) => sign(sigType === 'rsa-sha2-256' ? 'sha256' : sigType === 'ssh-rsa' ? 'sha1' : 'sha512', d, privateKey as KeyObject),
  };
}

/** An sshsig blob over PAYLOAD, with any field overridden to make it wrong. */
function blobOf(made: Made, o: { magic?: string; version?: number; namespace?: string; hash?: string; trailing?: Buffer; innerTrailing?: Buffer; payload?: Buffer } = {}): Buffer {
  const namespace = o.namespace ?? 'git';
  const hash = o.hash ?? 'sha512';
  const fake = { namespace, reserved: Buffer.alloc(0), hashAlgorithm: hash === 'sha256' ? 'sha256' : 'sha512' } as SshSignature;
  const sigRaw = made.signRaw(signedData(fake, o.payload ?? PAYLOAD));
  const sigField = Buffer.concat([str(made.sigType), str(sigRaw), made.trailer ?? Buffer.alloc(0), o.innerTrailing ?? Buffer.alloc(0)]);
  return Buffer.concat([
    Buffer.from(o.magic ?? 'SSHSIG'),
    u32(o.version ?? 1),
    str(made.keyBlob),
    str(namespace),
    str(''),
    str(hash),
    str(sigField),
    o.trailing ?? Buffer.alloc(0),
  ]);
}

function throwsWith(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

test('verifies ed25519, ECDSA P-256 and RSA (rsa-sha2-256/512) signatures over the exact payload', () => {
  for (const made of [ed25519(), ecdsaP256(), rsa('rsa-sha2-512'), rsa('rsa-sha2-256')]) {
    const sig = parseSshSignature(armor(blobOf(made)));
    assert.is(sig.namespace, 'git');
    verifySshSignature(sig, PAYLOAD);
    throwsWith(() => verifySshSignature(sig, Buffer.concat([PAYLOAD, Buffer.from(' ')])), /does not match/);
  }
});

test('refuses a truncated blob, trailing bytes, a wrong magic or a wrong version', () => {
  const made = ed25519();
  const good = blobOf(made);
  throwsWith(() => parseSshSignature(armor(good.subarray(0, good.length - 5))), /truncated/);
  throwsWith(() => parseSshSignature(armor(good.subarray(0, 8))), /truncated/);
  throwsWith(() => parseSshSignature(armor(blobOf(made, { trailing: Buffer.from([0]) }))), /1 trailing bytes/);
  throwsWith(() => parseSshSignature(armor(blobOf(made, { innerTrailing: Buffer.from([1, 2]) }))), /signature field has 2 trailing bytes/);
  throwsWith(() => parseSshSignature(armor(blobOf(made, { magic: 'SSHSIH' }))), /no SSHSIG magic/);
  throwsWith(() => parseSshSignature(armor(blobOf(made, { version: 2 }))), /version 2/);
});

test('refuses a broken armor, a hash other than sha256/sha512 and a SHA-1 ssh-rsa signature', () => {
  const made = ed25519();
  const armored = armor(blobOf(made));
  throwsWith(() => parseSshSignature(armored.replace('BEGIN SSH', 'BEGIN PGP')), /does not start with/);
  throwsWith(() => parseSshSignature(armored.replace('-----END SSH SIGNATURE-----', '')), /does not end with/);
  throwsWith(() => parseSshSignature(armored.replace(/\n([A-Za-z0-9])/, '\n$1*')), /not valid base64/);
  throwsWith(() => parseSshSignature(armor(blobOf(made, { hash: 'sha1' }))), /hash algorithm "sha1"/);
  const sha1 = parseSshSignature(armor(blobOf(rsa('ssh-rsa'))));
  throwsWith(() => verifySshSignature(sha1, PAYLOAD), /SHA-1 RSA signatures are refused/);
});

test('keeps the namespace as signed, so the caller can refuse one that is not git', () => {
  const sig = parseSshSignature(armor(blobOf(ed25519(), { namespace: 'file' })));
  assert.is(sig.namespace, 'file');
  verifySshSignature(sig, PAYLOAD);
});

test('a signature naming one key type cannot pass for another', () => {
  const made = ed25519();
  const other = { ...made, sigType: 'ecdsa-sha2-nistp256' };
  throwsWith(() => verifySshSignature(parseSshSignature(armor(blobOf(other))), PAYLOAD), /cannot make a ecdsa-sha2-nistp256 signature/);
});

/**
 * A FIDO security key as the authenticator signs (PROTOCOL.u2f): over SHA-256 of the application,
 * the flags, the counter and SHA-256 of the sshsig data; the flags and counter follow the signature.
 */
function securityKey(type: string, made: Made, flags: number, counter = 7): Made {
  const application = 'ssh:';
  const sha = (b: string | Buffer) => createHash('sha256').update(b).digest();
  return {
    // The plain key's blob with the sk- type in front and the application after.
    keyBlob: Buffer.concat([str(type), made.keyBlob.subarray(4 + made.keyBlob.readUInt32BE(0)), str(application)]),
    sigType: type,
    signRaw: (d) => made.signRaw(Buffer.concat([sha(application), Buffer.from([flags]), u32(counter), sha(d)])),
    trailer: Buffer.concat([Buffer.from([flags]), u32(counter)]),
  };
}

const skEd25519 = (flags = 1): Made => securityKey('sk-ssh-ed25519@openssh.com', ed25519(), flags);

test('verifies sk-ssh-ed25519 and sk-ecdsa-sha2-nistp256 security-key signatures that assert user presence', () => {
  for (const made of [skEd25519(), securityKey('sk-ecdsa-sha2-nistp256@openssh.com', ecdsaP256(), 0x05)]) {
    const sig = parseSshSignature(armor(blobOf(made)));
    assert.is(sig.securityKey?.counter, 7);
    verifySshSignature(sig, PAYLOAD);
    throwsWith(() => verifySshSignature(sig, Buffer.concat([PAYLOAD, Buffer.from(' ')])), /does not match/);
  }
  const untouched = parseSshSignature(armor(blobOf(skEd25519(0))));
  throwsWith(() => verifySshSignature(untouched, PAYLOAD), /did not assert user presence/);
  // The counter is signed over: one changed after signing does not verify.
  const made = skEd25519();
  const blob = blobOf(made);
  blob.writeUInt8(blob.readUInt8(blob.length - 1) ^ 1, blob.length - 1);
  throwsWith(() => verifySshSignature(parseSshSignature(armor(blob)), PAYLOAD), /does not match/);
  throwsWith(() => parseSshSignature(armor(blobOf({ ...made, trailer: Buffer.from([1]) }))), /truncated/);
});

test('reads OpenSSH public key lines: fingerprint of the blob, type checked, sk- and weak RSA refused by name', () => {
  const made = ed25519();
  const line = `ssh-ed25519 ${made.keyBlob.toString('base64')} alice@laptop`;
  const key = parseSshPublicKeyLine(`${line}\n`);
  assert.is(key.comment, 'alice@laptop');
  assert.match(key.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
  assert.is(parseSshPublicKeyLine(`ssh-ed25519 ${made.keyBlob.toString('base64')} bob`).fingerprint, key.fingerprint, 'identity by key, not comment');
  throwsWith(() => parseSshPublicKeyLine(line.replace('ssh-ed25519 ', 'ssh-rsa ')), /says ssh-rsa but its key is ssh-ed25519/);
  throwsWith(() => parseSshPublicKeyLine(`${line}\n${line}`), /found 2/);
  const sk = parseSshPublicKeyLine(`sk-ssh-ed25519@openssh.com ${skEd25519().keyBlob.toString('base64')} yubikey`);
  assert.is(sk.application, 'ssh:');
  const ed448 = Buffer.concat([str('sk-ssh-ed448@openssh.com'), str(Buffer.alloc(57)), str('ssh:')]);
  throwsWith(() => parseSshPublicKeyLine(`sk-ssh-ed448@openssh.com ${ed448.toString('base64')}`), /sk-ssh-ed448@openssh.com security keys are not supported/);
  const weak = rsa('rsa-sha2-512', 1024);
  throwsWith(() => parseSshPublicKeyLine(`ssh-rsa ${weak.keyBlob.toString('base64')}`), /1024 bits/);
});

test.run();
