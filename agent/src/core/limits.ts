import type { Limits } from '../../../schemas/index.js';
import { parseDuration } from './duration.js';

/**
 * What a channel may cost a node unless its config says otherwise (agent.yaml `limits`).
 * 1000 files per release: a compose release is a handful of files and a few image archives, so
 * a thousand is far above any real one, yet small enough that listing, hashing and journalling
 * them stays cheap on a small device.
 * 5 minutes for one request: a channel is text (the bench's 5,000-commit channel is a few MiB), so
 * even a first clone over a slow link ends well inside it, while a server that trickles a byte at a
 * time cannot hold a poll — and the operators' requests queued behind it — for longer.
 * 60 seconds without a byte: git servers send progress lines while they count and compress, so a
 * live server is never silent that long; Node's own 5 s socket timeout used to cut such servers.
 */
export const DEFAULT_LIMITS = {
  maxFileBytes: 16 * 1024 * 1024,
  maxFetchBytes: 512 * 1024 * 1024,
  maxReleaseFiles: 1000,
  fetchTimeout: '5m',
  fetchIdleTimeout: '60s',
} as const satisfies Required<Limits>;

/** The limits the channel reader enforces while it reads a commit's tree. */
export type TreeLimits = Pick<Required<Limits>, 'maxFileBytes' | 'maxReleaseFiles'>;

/** How long one request to the channel may take in all, and without a byte arriving. */
export interface FetchDeadlines {
  readonly totalMs: number;
  readonly idleMs: number;
}

/** The deadlines of an agent config's `limits`, defaults filled in; a bad duration names its field. */
export function fetchDeadlinesOf(limits: Limits, file: string): FetchDeadlines {
  return {
    totalMs: parseDuration(limits.fetchTimeout ?? DEFAULT_LIMITS.fetchTimeout, { file, field: '/limits/fetchTimeout' }),
    idleMs: parseDuration(limits.fetchIdleTimeout ?? DEFAULT_LIMITS.fetchIdleTimeout, { file, field: '/limits/fetchIdleTimeout' }),
  };
}
