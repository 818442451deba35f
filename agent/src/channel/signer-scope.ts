import type { SignerScope } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import type { GitObjects } from '../ports.js';
import { parseCommitObject } from './commit-object.js';
import type { CommitTree } from './commit-tree.js';
import type { GroupChange, Published, ScopeProblem } from './promotion-rule.js';
import { describeProblem, groupChangeProblem, promotedGroupFiles } from './promotion-rule.js';
import type { TrustedKey } from './signature.js';
import { diffTrees } from './tree-diff.js';
import type { TrustPolicy } from './trust-policy.js';
import { CHANNEL_FILE, policyIdentity } from './trust-policy.js';

/** The commits of the walk's range a scope check may look at, read and verified through the walk. */
export interface ScopeRange {
  readonly objects: GitObjects;
  /** Commit ids after the last accepted point and before the commit checked, oldest first. */
  readonly between: readonly string[];
  tree(commit: string): Promise<CommitTree>;
  /** The key that validly signed `commit` under the policy in force (signature facts cached), or null. */
  signer(commit: string): Promise<TrustedKey | null>;
}

export interface ScopeInput {
  readonly commit: string;
  readonly tree: CommitTree;
  readonly signer: TrustedKey;
  /** The anchor, or the last commit this walk accepted that changed the policy; null before any. */
  readonly lastAccepted: string | null;
  /** The policy in force at the commit's parent. */
  readonly policy: TrustPolicy;
  readonly range: ScopeRange;
}

/** The signer's scope, and for a promotion the commit its change was checked against. */
export interface ScopeVerdict {
  readonly scope: SignerScope;
  readonly base: string | null;
}

/**
 * DESIGN §3, promotion-only keys: a commit signed by a `scope: promote` key may only move existing
 * groups among versions a full-scope signer already published. Its base is the nearest commit
 * since the last accepted point that a full-scope key validly signed, else that point itself;
 * anything else is refused as `out-of-scope`, naming the signer, the file and the field.
 */
export async function checkSignerScope(input: ScopeInput): Promise<ScopeVerdict> {
  const { commit, tree, signer, policy, range } = input;
  if (signer.scope === 'all') return { scope: 'all', base: null };
  const refuse = (problem: ScopeProblem, base: string | null): never => {
    throw new DuckError(
      'out-of-scope',
      `commit ${commit.slice(0, 12)}: ${signer.name} (${signer.fingerprint}) may only promote published versions: ${describeProblem(problem)}`,
      { commit, fingerprint: signer.fingerprint, file: problem.file, field: problem.field, ...(base ? { base } : {}) },
    );
  };

  const policyFile = await changedPolicyFile(tree, policy);
  if (policyFile !== null) refuse({ file: policyFile, field: '', message: 'the trust policy may not change in a promotion' }, null);
  const base = await findBase(range, input.lastAccepted);
  if (base === null) {
    refuse({ file: '', field: '', message: 'no commit signed by a full-scope key precedes it since the last accepted commit, so nothing vouches for the content' }, null);
  }
  const baseTree = await range.tree(base!);
  const changes = await diffTrees(range.objects, await rootOf(range.objects, base!), await rootOf(range.objects, commit));
  const touched = promotedGroupFiles(changes);
  if ('problem' in touched) return refuse(touched.problem, base);
  const published = publishedIn(baseTree);
  const floor = policy.channel?.promotion?.floor ?? {};
  for (const file of touched.files) {
    const change: GroupChange = { file, before: await baseTree.readYaml('group', file), after: await tree.readYaml('group', file) };
    const problem = groupChangeProblem(change, await published(change.after), floor);
    if (problem) refuse(problem, base);
  }
  return { scope: 'promote', base };
}

/** The nearest commit of the range a full-scope key validly signed, else the last accepted point. */
async function findBase(range: ScopeRange, lastAccepted: string | null): Promise<string | null> {
  for (const oid of [...range.between].reverse()) {
    if ((await range.signer(oid))?.scope === 'all') return oid;
  }
  return lastAccepted;
}

/** channel.yaml or the first key file whose blob differs from the policy in force, or null. */
async function changedPolicyFile(tree: CommitTree, policy: TrustPolicy): Promise<string | null> {
  const identity = await policyIdentity(tree, policy.channel);
  if (identity === policy.identity) return null;
  const was = policy.identity.split(';');
  const is = identity.split(';');
  if (was[0] !== is[0]) return CHANNEL_FILE;
  const key = is.find((part, i) => part !== was[i]);
  return key ? key.slice(0, key.lastIndexOf('=')) : CHANNEL_FILE;
}

async function rootOf(objects: GitObjects, commit: string): Promise<string> {
  return parseCommitObject(await objects.readCommitRaw(commit), commit).tree;
}

/** Whether the base publishes each version a group names: `releases/<app>/<version>/release.yaml`, `agents/<version>/agent.yaml`. */
function publishedIn(base: CommitTree): (group: { apps: Record<string, string>; agent?: { version: string } }) => Promise<Published> {
  return async (group) => {
    const releases = new Set<string>();
    for (const [app, version] of Object.entries(group.apps)) {
      if ((await base.blobId(`releases/${app}/${version}/release.yaml`)) !== null) releases.add(`${app}\0${version}`);
    }
    const agent = group.agent ? (await base.blobId(`agents/${group.agent.version}/agent.yaml`)) !== null : false;
    return { release: (app, version) => releases.has(`${app}\0${version}`), agent: () => agent };
  };
}
