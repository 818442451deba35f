// DESIGN §4.7: the agent's own builds as the channel publishes them, agents/<version>/agent.yaml,
// read by object id from an accepted commit. The file binds each platform's tarball (URL, sha256,
// size) to the signed history, so the server holding the tarballs need not be trusted; its own
// sha256 is the release's digest, which tells a republished version from the one that failed here.
import { createHash } from 'node:crypto';
import { parseYaml } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import type { AgentRelease } from '../core/agent-build.js';
import type { TreeLimits } from '../core/limits.js';
import { DEFAULT_LIMITS } from '../core/limits.js';
import type { GitObjects } from '../ports.js';
import { parseCommitObject } from './commit-object.js';
import type { CommitTree } from './commit-tree.js';
import { assertSafePath, openCommitTree } from './commit-tree.js';

export const AGENT_RELEASE_FILE = 'agent.yaml';

/** Where a version's release lives in a channel. */
export function agentReleasePath(version: string): string {
  return `agents/${version}/${AGENT_RELEASE_FILE}`;
}

/** Who asked for the version, named in the error when it has no release (a group's /agent/version). */
export interface AskedBy {
  readonly file: string;
  readonly field: string;
}

/**
 * The agent release `version` of an accepted commit, read from the local clone.
 * @throws DuckError 'invalid' naming agents/<version>/agent.yaml and the field; 'unsafe-path', 'too-large'
 */
export async function readAgentRelease(
  objects: GitObjects,
  commit: string,
  version: string,
  limits: TreeLimits = DEFAULT_LIMITS,
): Promise<AgentRelease> {
  const parsed = parseCommitObject(await objects.readCommitRaw(commit), commit);
  return readAgentReleaseIn(openCommitTree(objects, commit, parsed.tree, limits), version);
}

/** The same read through any CommitTree: a commit's, or `duck release lint`'s working tree. */
export async function readAgentReleaseIn(tree: CommitTree, version: string, askedBy?: AskedBy): Promise<AgentRelease> {
  const dir = `agents/${version}`;
  const file = agentReleasePath(version);
  assertSafePath(dir, askedBy?.file ?? file, askedBy?.field ?? '/version');
  if ((await tree.blobId(file)) === null) {
    const where = askedBy ? `${askedBy.file}: ${askedBy.field}: ` : `${file}: `;
    throw new DuckError('invalid', `${where}agent version ${version} has no ${file} in commit ${tree.commit.slice(0, 12)}`, {
      file: askedBy?.file ?? file,
      field: askedBy?.field ?? '',
      commit: tree.commit,
    });
  }
  const release = parseAgentRelease(await tree.readFile(file), file, tree.commit);
  if (release.version !== version) {
    throw new DuckError('invalid', `${file}: /version: names ${release.version} but lives in ${dir}`, { file, field: '/version' });
  }
  return release;
}

/**
 * An agent.yaml's bytes as a release, checked against the agent-release schema — the one check of
 * the format, for the channel's files and `duck self-update --release-file` alike. `commit` is
 * where it was read ('' for a file outside the channel).
 * @throws DuckError 'invalid' naming `file` and the field
 */
export function parseAgentRelease(bytes: Uint8Array, file: string, commit: string): AgentRelease {
  const release = parseYaml('agent-release', new TextDecoder().decode(bytes), file);
  return {
    version: release.version,
    notes: release.notes ?? '',
    artifacts: release.artifacts,
    digest: createHash('sha256').update(bytes).digest('hex'),
    commit,
  };
}
