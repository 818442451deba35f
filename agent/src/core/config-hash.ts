import { createHash } from 'node:crypto';
import type { ComposeOverride, ImageSpec } from '../../../schemas/index.js';

/**
 * Everything that shapes an app's running state, hashed (DESIGN §4.3): the release's files, its
 * images, and the overlay's compose files (by content) and env. Equal hashes mean no Docker
 * mutation, whatever polls, restarts or overlay edits happened meanwhile.
 */
export function configHash(input: {
  version: string;
  files: Readonly<Record<string, string>>;
  images: readonly ImageSpec[];
  override: ComposeOverride | undefined;
  overrideFileHashes: Readonly<Record<string, string>>;
}): string {
  const canonical = {
    version: input.version,
    files: sortKeys(input.files),
    images: input.images.map((i) => ({ ref: i.ref, id: i.id ?? null })),
    overrideFiles: (input.override?.files ?? []).map((f) => [f, input.overrideFileHashes[f] ?? 'missing']),
    env: sortKeys(input.override?.env ?? {}),
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

function sortKeys(record: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The identity of a release's content: equal for the same release.yaml whatever commit carries
 * it, so a failed version is retried when its release changes, not on every unrelated commit.
 */
export function releaseDigest(release: unknown): string {
  return createHash('sha256').update(canonicalJson(release)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
