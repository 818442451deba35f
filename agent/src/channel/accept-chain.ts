import type { DuckErrorCode } from '../../../schemas/errors.js';
import { DuckError, toDuckError } from '../../../schemas/errors.js';
import type { CommitObject } from './commit-object.js';
import { parseCommitObject } from './commit-object.js';
import type { CommitTree } from './commit-tree.js';
import { openCommitTree } from './commit-tree.js';
import type { GitObjects } from '../ports.js';
import type { TreeLimits } from '../core/limits.js';
import type { DeployedCommit } from './running-floor.js';
import { floorRefusal } from './running-floor.js';
import type { TrustedKey } from './signature.js';
import { assertKeyUsableAt, verifyDetached } from './signature.js';
import type { ScopeRange, ScopeVerdict } from './signer-scope.js';
import { checkSignerScope } from './signer-scope.js';
import type { CommitHistory, PolicyPoint, ThresholdMet } from './thresholds.js';
import { assertThresholds } from './thresholds.js';
import type { TrustPolicy } from './trust-policy.js';
import { agentOnlyPolicy, assertVersionGrows, policyIdentity, readPolicy } from './trust-policy.js';

/** What is remembered about a commit's signature: a fact about bytes, true under any policy. */
export interface VerifiedEntry {
  readonly fingerprint: string;
  readonly keyId: string;
  readonly valid: boolean;
  readonly message?: string;
}

export interface ChainInput {
  readonly objects: GitObjects;
  readonly tip: string;
  /** The last accepted commit, or null on the first run (then the walk starts at the root). */
  readonly anchor: string | null;
  readonly agentKeys: readonly TrustedKey[];
  readonly now: Date;
  readonly limits: TreeLimits;
  /** Signature facts already known, by commit id: no commit is verified twice. */
  readonly verified: (commit: string) => VerifiedEntry | undefined;
  /** Without an anchor: the commits the node's stacks were deployed from, which the tip must descend from. */
  readonly deployed?: readonly DeployedCommit[];
}

export interface AcceptedCommit {
  readonly commit: string;
  readonly signer: { readonly fingerprint: string; readonly name: string; readonly source: 'agent' | 'channel' };
  /** The signer's scope; for a promotion, the commit its change was checked against (null when unchecked). */
  readonly scope: ScopeVerdict | null;
  readonly signedAt: Date | null;
  readonly committedAt: Date;
  readonly policy: TrustPolicy;
  readonly tree: CommitTree;
  /** What counted for each k-of-n rule the commit touched (none when the walk checked nothing). */
  readonly thresholds: readonly ThresholdMet[];
}

export interface PassedOver {
  readonly commit: string;
  readonly reason: DuckErrorCode;
  readonly message: string;
}

export interface ChainResult {
  readonly accepted: AcceptedCommit;
  /** Intermediate commits that were not accepted (unsigned, untrusted...): passed over, not fatal. */
  readonly passedOver: readonly PassedOver[];
  /** Commits walked between the anchor and the tip, the tip included. */
  readonly walked: number;
  /** Signature facts this walk learned, for the caller to keep beside the known ones. */
  readonly learned: Readonly<Record<string, VerifiedEntry>>;
}

interface ChainCommit {
  readonly oid: string;
  readonly object: CommitObject;
}

/**
 * DESIGN §3: walk the first-parent chain from the anchor to the tip. A commit signed by a key
 * trusted under the policy in force is accepted and its channel.yaml becomes the policy in force.
 * The tip must end up accepted, or this throws the tip's typed refusal and nothing changes.
 */
export async function acceptChain(input: ChainInput): Promise<ChainResult> {
  const learned: Record<string, VerifiedEntry> = {};
  try {
    return await walk(input, learned);
  } catch (err) {
    const e = toDuckError(err);
    throw e.isRefusal ? new ChainRefusal(e, learned) : e;
  }
}

/**
 * A refused walk: the refusal, and the signature facts learned on the way — facts about bytes,
 * true whatever was refused, so the next walk does not verify those commits again.
 */
export class ChainRefusal extends DuckError {
  constructor(
    refusal: DuckError,
    readonly learned: Readonly<Record<string, VerifiedEntry>>,
  ) {
    super(refusal.code, refusal.message, refusal.data, refusal.retry, { cause: refusal });
  }
}

async function walk(input: ChainInput, learned: Record<string, VerifiedEntry>): Promise<ChainResult> {
  const chain = await firstParentChain(input.objects, input.tip, input.anchor);
  if (input.anchor === null) {
    const refusal = floorRefusal(input.tip, new Set(chain), input.deployed ?? []);
    if (refusal) throw refusal;
  }
  const treeOf = (c: ChainCommit): CommitTree => openCommitTree(input.objects, c.oid, c.object.tree, input.limits);

  let policy = agentOnlyPolicy(input.agentKeys);
  let accepted: AcceptedCommit | null = null;
  // The last accepted point thresholds count from (thresholds.ts); none before any channel.yaml.
  let point: PolicyPoint | null = null;
  if (input.anchor !== null) {
    const anchor = { oid: input.anchor, object: parseCommitObject(await input.objects.readCommitRaw(input.anchor), input.anchor) };
    policy = await policyAt(treeOf(anchor), input.agentKeys);
    point = { commit: anchor.oid, tree: treeOf(anchor), policy };
    if (chain.length === 0) accepted = acceptedFrom(anchor, treeOf(anchor), policy, null, null, null, []);
  }

  const passedOver: PassedOver[] = [];
  const facts: SignatureFacts = { known: (oid) => learned[oid] ?? input.verified(oid), learn: (oid, entry) => void (learned[oid] = entry) };
  // The last accepted point: the anchor (-1), or the index of the last policy change accepted.
  let lastAccepted = -1;
  const history = commitHistory(input, treeOf, facts);
  for (const [index, oid] of chain.entries()) {
    const isTip = index === chain.length - 1;
    // Read again here rather than kept from the walk down: only the ids of the history are held.
    const commit = { oid, object: parseCommitObject(await input.objects.readCommitRaw(oid), oid) };
    const tree = treeOf(commit);
    try {
      // A commit that leaves channel.yaml and its keys as they are cannot change the policy, so
      // whether it would be accepted matters only for the tip.
      const identity = await policyIdentity(tree, policy.channel);
      if (identity === policy.identity && !isTip) continue;
      const verified = await checkSignature(commit, policy, input, facts);
      const scope = await checkSignerScope({
        commit: oid,
        tree,
        signer: verified.signer,
        lastAccepted: lastAccepted < 0 ? input.anchor : chain[lastAccepted]!,
        policy,
        range: scopeRange(input, chain.slice(lastAccepted + 1, index), policy, history),
      });
      let next = policy;
      if (identity !== policy.identity) {
        next = await readPolicy(tree, input.agentKeys);
        assertVersionGrows(policy, next, commit.oid);
        lastAccepted = index;
      }
      const changesPolicy = next !== policy;
      const met = await assertThresholds({ commit: oid, tree, signer: verified.signer, point, next: changesPolicy ? next : null, history });
      policy = next;
      if (changesPolicy) point = { commit: oid, tree, policy };
      if (isTip) accepted = acceptedFrom(commit, tree, policy, verified.signer, verified.signedAt, scope, met);
    } catch (err) {
      const refusal = toDuckError(err);
      if (isTip || !refusal.isRefusal) throw refusal;
      passedOver.push({ commit: commit.oid, reason: refusal.code, message: refusal.message });
    }
  }
  if (!accepted) throw new DuckError('internal', 'the walk ended without an accepted commit');
  return { accepted, passedOver, walked: chain.length, learned };
}

async function policyAt(tree: CommitTree, agentKeys: readonly TrustedKey[]): Promise<TrustPolicy> {
  return (await tree.blobId('channel.yaml')) === null ? agentOnlyPolicy(agentKeys) : readPolicy(tree, agentKeys);
}

function acceptedFrom(
  commit: ChainCommit,
  tree: CommitTree,
  policy: TrustPolicy,
  signer: TrustedKey | null,
  signedAt: Date | null,
  scope: ScopeVerdict | null,
  thresholds: readonly ThresholdMet[],
): AcceptedCommit {
  return {
    commit: commit.oid,
    signer: signer ? { fingerprint: signer.fingerprint, name: signer.name, source: signer.source } : { fingerprint: '', name: '', source: 'channel' },
    scope,
    signedAt,
    committedAt: new Date(commit.object.committedAt * 1000),
    policy,
    tree,
    thresholds,
  };
}

/** The range's commits for thresholds.ts, signatures checked through the walk's facts (never twice). */
function commitHistory(input: ChainInput, treeOf: (c: ChainCommit) => CommitTree, facts: SignatureFacts): CommitHistory {
  const read = async (oid: string): Promise<ChainCommit> => ({ oid, object: parseCommitObject(await input.objects.readCommitRaw(oid), oid) });
  return {
    read: async (oid) => {
      const commit = await read(oid);
      return { parents: commit.object.parents, message: commit.object.message, tree: treeOf(commit) };
    },
    signer: async (oid, policy) => {
      try {
        return (await checkSignature(await read(oid), policy, input, facts)).signer;
      } catch (err) {
        if (toDuckError(err).isRefusal) return null;
        throw err;
      }
    },
  };
}

/** What a scope check may read of the range: the commits between, their trees and signers under `policy`. */
function scopeRange(input: ChainInput, between: readonly string[], policy: TrustPolicy, history: CommitHistory): ScopeRange {
  return {
    objects: input.objects,
    between,
    tree: async (oid) => (await history.read(oid)).tree,
    signer: (oid) => history.signer(oid, policy),
  };
}

interface SignatureFacts {
  known(oid: string): VerifiedEntry | undefined;
  learn(oid: string, entry: VerifiedEntry): void;
}

async function checkSignature(commit: ChainCommit, policy: TrustPolicy, input: ChainInput, facts: SignatureFacts): Promise<{ signer: TrustedKey; signedAt: Date | null }> {
  const { oid, object } = commit;
  if (object.armoredSignature === null) {
    throw new DuckError('unsigned', `commit ${oid.slice(0, 12)} is not signed`, { commit: oid });
  }
  const cached = facts.known(oid);
  const cachedSigner = cached && policy.keys.find((k) => k.fingerprint === cached.fingerprint);
  if (cached && cachedSigner) {
    if (!cached.valid) throw new DuckError('bad-signature', cached.message ?? `commit ${oid.slice(0, 12)}: bad signature`, { commit: oid });
    await assertKeyUsableAt(cachedSigner, cached.keyId, input.now, oid);
    return { signer: cachedSigner, signedAt: null };
  }
  try {
    const result = await verifyDetached(object.signedPayload, object.armoredSignature, policy.keys, input.now, oid);
    facts.learn(oid, { fingerprint: result.signer.fingerprint, keyId: result.keyId, valid: true });
    return result;
  } catch (err) {
    const e = toDuckError(err);
    // Only a cryptographic failure is a fact about the bytes; trust and expiry depend on the day.
    if (e.code === 'bad-signature' && typeof e.data.fingerprint === 'string' && typeof e.data.keyId === 'string') {
      facts.learn(oid, { fingerprint: e.data.fingerprint, keyId: e.data.keyId, valid: false, message: e.message });
    }
    throw e;
  }
}

/**
 * Commit ids, oldest first, the anchor excluded; a tip that does not descend from the anchor is
 * refused. Ids only: a long history costs its ids, not its commits (their signatures, messages).
 */
async function firstParentChain(objects: GitObjects, tip: string, anchor: string | null): Promise<string[]> {
  const chain: string[] = [];
  let oid: string | undefined = tip;
  while (oid !== undefined && oid !== anchor) {
    chain.push(oid);
    // Parsed whole, as strictly as when it is checked: a malformed commit anywhere stops the walk.
    oid = parseCommitObject(await objects.readCommitRaw(oid), oid).parents[0];
  }
  if (anchor !== null && oid !== anchor) {
    throw new DuckError(
      'history-rewritten',
      `the channel tip ${tip.slice(0, 12)} does not descend from the last accepted commit ${anchor.slice(0, 12)}: history was rewritten (roll back with git revert)`,
      { commit: tip, anchor },
    );
  }
  return chain.reverse();
}
