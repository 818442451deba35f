// DESIGN §4.10: announcements.yaml at the channel root, read by object id from an accepted commit
// with the same path and size rules as every channel file. The file is optional: a channel without
// it has no announcements. Ids must be unique, since a node reports what it saw by id.
import type { Announcement } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import type { TreeLimits } from '../core/limits.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import type { GitObjects } from '../ports.js';
import { parseCommitObject } from './commit-object.js';
import type { CommitTree } from './commit-tree.js';
import { openCommitTree } from './commit-tree.js';

export const ANNOUNCEMENTS_FILE = 'announcements.yaml';

/**
 * The announcements of an accepted commit, read from the local clone; none when the file is absent.
 * @throws DuckError 'invalid' naming announcements.yaml and the field; 'unsafe-path', 'too-large'
 */
export async function readAnnouncements(
  objects: GitObjects,
  commit: string,
  limits: TreeLimits = DEFAULT_LIMITS,
): Promise<readonly Announcement[]> {
  const parsed = parseCommitObject(await objects.readCommitRaw(commit), commit);
  return readAnnouncementsIn(openCommitTree(objects, commit, parsed.tree, limits));
}

/** The same read through any CommitTree: a commit's, or `duck release lint`'s working tree. */
export async function readAnnouncementsIn(tree: CommitTree): Promise<readonly Announcement[]> {
  if ((await tree.blobId(ANNOUNCEMENTS_FILE)) === null) return [];
  // An empty file, or one of comments only, is an empty list: a template starts that way.
  const announcements = await tree.readYaml('announcements', ANNOUNCEMENTS_FILE);
  const seen = new Set<string>();
  announcements.forEach((a, i) => {
    if (seen.has(a.id)) {
      throw new DuckError('invalid', `${ANNOUNCEMENTS_FILE}: /${i}/id: ${a.id} is used by an earlier announcement`, {
        file: ANNOUNCEMENTS_FILE,
        field: `/${i}/id`,
      });
    }
    seen.add(a.id);
  });
  return announcements;
}

