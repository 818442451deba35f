// `duck release approve <commit>`: the second (third…) signature of the two-person rule, as an empty
// signed commit `approve <id>` on top of what it approves, so it travels in a pull request. Agents
// count it only where its tree holds the approved content (channel/thresholds.ts): approving a
// commit whose guarded files differ from HEAD's would count for nothing, so it is refused here.
import { DuckError } from '../../../schemas/errors.js';
import type { CommitTree } from '../channel/commit-tree.js';
import { approvalMessage, thresholdRulesOf, watchedPaths } from '../channel/threshold-rules.js';
import { stateAt } from '../channel/thresholds.js';
import { CHANNEL_FILE, signerKeyFiles } from '../channel/trust-policy.js';
import { commitAll, commitWithGnupg } from './commit-writer.js';
import type { LocalRepo } from './local-repo.js';
import type { SigningKey } from './signing-key.js';

export interface Approval {
  readonly approved: string;
  readonly commit: string;
}

/** `key` signs with openpgp.js; null signs with the person's GnuPG (git commit -S). */
export async function approveCommit(repo: LocalRepo, ref: string, key: SigningKey | null, env: NodeJS.ProcessEnv): Promise<Approval> {
  const approved = await repo.resolveCommit(ref);
  const head = await repo.head();
  if (head === null) throw new DuckError('usage', `${repo.dir}: no commit to approve on yet`);
  const changed = await repo.trackedChanges();
  if (changed.length > 0) {
    throw new DuckError('usage', `${repo.dir}: uncommitted changes (${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ', …' : ''}): an approval commits HEAD's tree as it is; commit or stash them first`, {
      file: changed[0],
    });
  }
  const differing = await guardedDifferences(await repo.treeAt(head), await repo.treeAt(approved));
  if (differing.length > 0) {
    throw new DuckError(
      'usage',
      `HEAD ${head.slice(0, 12)} differs from ${approved.slice(0, 12)} at ${differing.join(', ')}, which thresholds guard: agents count an approval only for the content its own tree holds, so approve HEAD (or check out ${approved.slice(0, 12)} first)`,
      { file: differing[0], commit: approved },
    );
  }
  const message = approvalMessage(approved);
  const commit = key ? await commitAll(repo, message, key, env, { empty: true }) : await commitWithGnupg(repo.dir, message.trimEnd(), env, { empty: true });
  return { approved, commit };
}

/** The paths HEAD's thresholds guard where the two trees differ (a file's blob, a directory's tree). */
async function guardedDifferences(head: CommitTree, approved: CommitTree): Promise<string[]> {
  if ((await head.blobId(CHANNEL_FILE)) === null) return [];
  const channel = await head.readYaml('channel', CHANNEL_FILE);
  const keyFiles = signerKeyFiles(channel);
  const paths = new Set(thresholdRulesOf(channel).flatMap((rule) => watchedPaths(rule, keyFiles)));
  const differing: string[] = [];
  for (const path of paths) {
    if ((await stateAt(head, path)) !== (await stateAt(approved, path))) differing.push(path);
  }
  return differing.sort();
}
