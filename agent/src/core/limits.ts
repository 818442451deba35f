import type { Limits } from '../../../schemas/index.js';

/**
 * What a channel may cost a node unless its config says otherwise (agent.yaml `limits`).
 * 1000 files per release: a compose release is a handful of files and a few image archives, so
 * a thousand is far above any real one, yet small enough that listing, hashing and journalling
 * them stays cheap on a small device.
 */
export const DEFAULT_LIMITS = {
  maxFileBytes: 16 * 1024 * 1024,
  maxFetchBytes: 512 * 1024 * 1024,
  maxReleaseFiles: 1000,
} as const satisfies Required<Limits>;

/** The limits the channel reader enforces while it reads a commit's tree. */
export type TreeLimits = Pick<Required<Limits>, 'maxFileBytes' | 'maxReleaseFiles'>;
