import git from 'isomorphic-git';
import type { CallbackFsClient, PromiseFsClient } from 'isomorphic-git';
import type { GitObjects } from '../ports.js';
import { DuckError } from '../../../schemas/errors.js';
import { objectSizes } from './git-object-size.js';

/**
 * A repository's objects read by id with isomorphic-git: what the channel code reads commits and
 * trees through, for the agent's bare clone and the publisher's working clone alike. `cache` is
 * isomorphic-git's pack cache; a caller that fetches into the repository shares it (and clears it).
 */
export function isomorphicGitObjects(fs: CallbackFsClient | PromiseFsClient, gitdir: string, cache: object = {}): GitObjects {
  const sizeOf = objectSizes(gitdir);
  return {
    sizeOf,
    has: async (oid) => git.readObject({ fs, gitdir, oid, format: 'deflated', cache }).then(() => true, () => false),
    readCommitRaw: async (oid) => {
      const { type, object } = await git.readObject({ fs, gitdir, oid, format: 'content', cache });
      if (type !== 'commit') throw new DuckError('invalid', `object ${oid} is a ${type}, not a commit`, { commit: oid });
      return object as Uint8Array;
    },
    // Raw, not git.readTree: its own name checks would throw an untyped error on a crafted tree.
    readTreeRaw: async (oid) => {
      const { type, object } = await git.readObject({ fs, gitdir, oid, format: 'content', cache });
      if (type !== 'tree') throw new DuckError('invalid', `object ${oid} is a ${type}, not a tree`, { tree: oid });
      return object as Uint8Array;
    },
    readBlob: async (oid) => (await git.readBlob({ fs, gitdir, oid, cache })).blob,
  };
}
