// `duck release lint --base <ref>`: the two-person rule counted as agents will count it, from the
// base (the last commit the remote has) to HEAD, so a pull request says which approvals it lacks.
import { parseCommitObject } from '../channel/commit-object.js';
import { verifyDetached } from '../channel/signature.js';
import { unmetMessage } from '../channel/threshold-rules.js';
import type { CommitHistory } from '../channel/thresholds.js';
import { tallyThresholds } from '../channel/thresholds.js';
import type { TrustPolicy } from '../channel/trust-policy.js';
import { CHANNEL_FILE, readPolicy } from '../channel/trust-policy.js';
import type { LintProblem, TextOf } from './lint-problem.js';
import { positionOf } from './lint-problem.js';
import type { LocalRepo } from './local-repo.js';

/** Each rule HEAD's change touches: who signed and how many are missing (0 when met). */
export interface ThresholdStanding {
  readonly paths: readonly string[];
  readonly count: number;
  readonly signers: readonly string[];
  readonly missing: number;
}

/**
 * A problem for each rule HEAD's change touches that lacks signatures (who signed, how many are
 * missing), and where every touched rule stands.
 */
export async function lintThresholds(repo: LocalRepo, ref: string, textOf: TextOf, now = new Date()): Promise<{ problems: LintProblem[]; standing: ThresholdStanding[] }> {
  const none = { problems: [], standing: [] };
  const head = await repo.head();
  const base = await repo.resolveCommit(ref);
  if (head === null || head === base) return none;
  const baseTree = await repo.treeAt(base);
  const headTree = await repo.treeAt(head);
  // An unreadable policy is the main lint's problem; with none at the base there is nothing to count.
  const before = await readPolicy(baseTree, []).catch(() => null);
  if (!before) return none;
  const after = await readPolicy(headTree, []).catch(() => null);
  const history = repoHistory(repo, now);
  const next = after && after.identity !== before.identity ? after : null;
  const tallies = await tallyThresholds({
    commit: head,
    tree: headTree,
    signer: await history.signer(head, before),
    point: { commit: base, tree: baseTree, policy: before },
    next,
    history,
  });
  const problems: LintProblem[] = [];
  for (const tally of tallies.filter((t) => t.missing > 0)) {
    const field = `/thresholds/${tally.rule.index}`;
    const where = (await positionOf(textOf, CHANNEL_FILE, field)) ?? { line: 1, column: 1 };
    problems.push({ file: CHANNEL_FILE, ...where, field, code: 'threshold-unmet', message: `${unmetMessage(head, tally)}, counted since ${ref}` });
  }
  const standing = tallies.map((t) => ({ paths: t.rule.paths, count: t.rule.count, signers: t.counted, missing: t.missing }));
  return { problems, standing };
}

function repoHistory(repo: LocalRepo, now: Date): CommitHistory {
  const read = async (oid: string) => parseCommitObject(await repo.objects.readCommitRaw(oid), oid);
  return {
    read: async (oid) => {
      const commit = await read(oid);
      return { parents: commit.parents, message: commit.message, tree: await repo.treeAt(oid) };
    },
    signer: async (oid: string, policy: TrustPolicy) => {
      const commit = await read(oid);
      if (commit.armoredSignature === null) return null;
      return verifyDetached(commit.signedPayload, commit.armoredSignature, policy.keys, now, oid).then(
        (v) => v.signer,
        () => null,
      );
    },
  };
}
