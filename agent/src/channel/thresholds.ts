import type { CommitTree } from './commit-tree.js';
import type { TrustedKey } from './signature.js';
import type { ThresholdRule, ThresholdTally } from './threshold-rules.js';
import { approvedCommit, coversPolicy, tallyRule, thresholdRulesOf, unmetError, watchedPaths } from './threshold-rules.js';
import type { TrustPolicy } from './trust-policy.js';
import { signerKeyFiles } from './trust-policy.js';

/** The walk's last accepted point: the anchor, or the last policy change this walk accepted. */
export interface PolicyPoint {
  readonly commit: string;
  readonly tree: CommitTree;
  readonly policy: TrustPolicy;
}

/** Other commits of the channel, read and verified the way the walk does (its signature facts). */
export interface CommitHistory {
  read(oid: string): Promise<{ readonly parents: readonly string[]; readonly message: string; readonly tree: CommitTree }>;
  /** The key of `policy` that validly signed the commit, or null (unsigned, untrusted, bad). */
  signer(oid: string, policy: TrustPolicy): Promise<TrustedKey | null>;
}

export interface ThresholdCheck {
  readonly commit: string;
  readonly tree: CommitTree;
  /** The commit's own verified signer; null when it is unsigned (lint before signing). */
  readonly signer: TrustedKey | null;
  readonly point: PolicyPoint | null;
  /** The policy the commit puts in force when it changes the policy, else null. */
  readonly next: TrustPolicy | null;
  readonly history: CommitHistory;
}

/** What counted for one rule the commit met, for `duck verify --json`. */
export interface ThresholdMet {
  readonly paths: readonly string[];
  readonly count: number;
  readonly signers: readonly string[];
}

/**
 * DESIGN §3, the two-person rule: the commit is refused `threshold-unmet` when a rule it touches
 * has fewer distinct signers than its count. Returns what counted for each rule it touches.
 */
export async function assertThresholds(check: ThresholdCheck): Promise<ThresholdMet[]> {
  const tallies = await tallyThresholds(check);
  const unmet = tallies.find((t) => t.missing > 0);
  if (unmet) throw unmetError(check.commit, unmet);
  return tallies.map((t) => ({ paths: t.rule.paths, count: t.rule.count, signers: t.counted }));
}

/**
 * For each rule of the policy at the point whose paths differ between the point's tree and the
 * commit's (and, when the commit changes the policy, the new policy's rule on channel.yaml, with
 * the new keys), the distinct rule signers among the commit's own signer and the signers of the
 * commits since the point that wrote this exact content or approve it.
 */
export async function tallyThresholds(check: ThresholdCheck): Promise<ThresholdTally[]> {
  const { point, next } = check;
  // No policy from a channel.yaml at the point (a first run before any): nothing to count against.
  if (!point?.policy.channel) return [];
  const rules: Array<{ rule: ThresholdRule; policy: TrustPolicy }> = thresholdRulesOf(point.policy.channel).map((rule) => ({ rule, policy: point.policy }));
  if (next?.channel) {
    for (const rule of thresholdRulesOf(next.channel, 'new').filter(coversPolicy)) rules.push({ rule, policy: next });
  }
  const keyFiles = [...new Set([...signerKeyFiles(point.policy.channel), ...signerKeyFiles(next?.channel ?? null)])];
  const range = lazyRange(check.history, check.commit, point.commit);
  const tallies: ThresholdTally[] = [];
  for (const { rule, policy } of rules) {
    const changed: Array<{ path: string; state: string | null }> = [];
    for (const path of watchedPaths(rule, keyFiles)) {
      const state = await stateAt(check.tree, path);
      if (state !== (await stateAt(point.tree, path))) changed.push({ path, state });
    }
    if (changed.length === 0) continue;
    const keys = ruleKeys(rule, policy);
    const signedBy: string[] = check.signer ? [check.signer.fingerprint] : [];
    for (const oid of await range()) {
      if (!(await vouchesFor(check.history, oid, changed))) continue;
      const signer = await check.history.signer(oid, policy);
      if (signer) signedBy.push(signer.fingerprint);
    }
    tallies.push(tallyRule(rule, keys, signedBy));
  }
  return tallies;
}

/** The rule's keys by fingerprint: channel.yaml signers it names; the agent's root keys never count. */
function ruleKeys(rule: ThresholdRule, policy: TrustPolicy): Map<string, string> {
  const names = new Set(rule.signers);
  return new Map(policy.keys.filter((k) => k.source === 'channel' && names.has(k.name)).map((k) => [k.fingerprint, k.name]));
}

/**
 * A commit of the range speaks for the content when its tree holds the same content at every
 * changed path, and it either wrote one of those paths (its author) or is an approval.
 */
async function vouchesFor(history: CommitHistory, oid: string, changed: ReadonlyArray<{ path: string; state: string | null }>): Promise<boolean> {
  const commit = await history.read(oid);
  for (const { path, state } of changed) if ((await stateAt(commit.tree, path)) !== state) return false;
  if (approvedCommit(commit.message) !== null) return true;
  const parent = commit.parents[0];
  const parentTree = parent === undefined ? null : (await history.read(parent)).tree;
  for (const { path, state } of changed) {
    if (parentTree === null ? state !== null : (await stateAt(parentTree, path)) !== state) return true;
  }
  return false;
}

/** A file's blob id, a directory prefix's tree id; null when absent. */
export async function stateAt(tree: CommitTree, path: string): Promise<string | null> {
  if (!path.endsWith('/')) return tree.blobId(path);
  const dir = path.slice(0, -1);
  if (tree.treeId) return tree.treeId(dir);
  const files = await tree.listFiles(dir);
  return files.length === 0 ? null : files.map((f) => `${f.path}=${f.oid}`).join(';');
}

/**
 * Commits reachable from `tip` (every parent, so a merged branch counts) and not from `point`,
 * `tip` excluded; computed on first use and then kept for the other rules.
 */
function lazyRange(history: CommitHistory, tip: string, point: string): () => Promise<string[]> {
  let range: Promise<string[]> | null = null;
  return () => (range ??= commitsBetween(history, tip, point));
}

async function commitsBetween(history: CommitHistory, tip: string, point: string): Promise<string[]> {
  const { seen, reachedRoot } = await reachable(history, (await history.read(tip)).parents, point);
  // A commit the point also reaches would lead this walk on past the point, down to a root commit:
  // reaching none, every commit seen is in the range, and the point's history need not be read.
  if (!reachedRoot) return [...seen];
  const before = (await reachable(history, [point], null)).seen;
  return [...seen].filter((oid) => !before.has(oid));
}

/** Every commit reachable from `from` over all parents, not going past `stop`. */
async function reachable(history: CommitHistory, from: readonly string[], stop: string | null): Promise<{ seen: Set<string>; reachedRoot: boolean }> {
  const seen = new Set<string>();
  let reachedRoot = false;
  const queue = [...from];
  while (queue.length > 0) {
    const oid = queue.pop()!;
    if (seen.has(oid) || oid === stop) continue;
    seen.add(oid);
    const { parents } = await history.read(oid);
    if (parents.length === 0) reachedRoot = true;
    queue.push(...parents);
  }
  return { seen, reachedRoot };
}
