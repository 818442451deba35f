import { BoundedCache } from '../core/bounded-cache.js';
import type { GitObjects } from '../ports.js';
import type { CommitTree } from './commit-tree.js';
import type { ChannelContent, ReleaseContent } from './read-release.js';

/**
 * What this process already read and checked from one repository, so that a poll does not read it
 * again. Git object ids name their content, so what was verified under an id holds under it for as
 * long as the rules it was checked under (the caller puts those in the key); trust decisions about
 * commits — signatures, the first-parent walk — are never kept here, only content reading.
 */
export type VerifiedReleases = BoundedCache<ReleaseContent>;

// 20,000 file entries (a few MiB): a group of 200 apps many times over, or ten releases at the
// default cap of 1,000 files.
const MAX_RELEASE_FILES_KEPT = 20_000;

// Keyed by the repository's objects port, so the cache lives exactly as long as the clone it read.
const releasesByRepository = new WeakMap<GitObjects, VerifiedReleases>();

/** The releases verified from this repository, by release tree id and the rules they were read under. */
export function verifiedReleasesOf(objects: GitObjects): VerifiedReleases {
  let cache = releasesByRepository.get(objects);
  if (!cache) releasesByRepository.set(objects, (cache = new BoundedCache(MAX_RELEASE_FILES_KEPT, (r) => r.files.length + 1)));
  return cache;
}

/** An accepted commit's content as this process read it, for a poll whose tip has not moved. */
export interface VerifiedCommit {
  readonly content: ChannelContent;
  readonly tree: CommitTree;
  readonly committedAt: Date;
}

// The accepted commit and the one before it: a node that follows one group needs no more.
const MAX_COMMITS_KEPT = 2;
const commitsByRepository = new WeakMap<GitObjects, BoundedCache<VerifiedCommit>>();

/** The commits accepted from this repository, by commit id and the group, caps and keys they were read under. */
export function verifiedCommitsOf(objects: GitObjects): BoundedCache<VerifiedCommit> {
  let cache = commitsByRepository.get(objects);
  if (!cache) commitsByRepository.set(objects, (cache = new BoundedCache(MAX_COMMITS_KEPT)));
  return cache;
}
