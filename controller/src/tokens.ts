// Secrets: agent tokens are random and kept only as their sha256; comparisons of secrets run in
// constant time (digests of equal length, so the length of a guess leaks nothing either).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function sameSecret(given: string, expected: string): boolean {
  return sameDigest(hashToken(given), hashToken(expected));
}

/** Compares two hex digests of the same algorithm in constant time. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
