import type { ChannelFile } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import { assertSafePath } from './commit-tree.js';

/** The file whose rule stands for the whole trust policy: channel.yaml and the key files it names. */
export const POLICY_PATH = 'channel.yaml';

/** One k-of-n rule of a channel.yaml, its signer set spelled out (every signer when the file names none). */
export interface ThresholdRule {
  /** Its place in the file: `/thresholds/<index>`. */
  readonly index: number;
  readonly paths: readonly string[];
  readonly count: number;
  readonly signers: readonly string[];
  /** Which policy it comes from when a commit changes the policy: the one in force, or the commit's own. */
  readonly policy: 'old' | 'new';
}

/** How one rule came out for one commit: the names that counted and how many more it needs. */
export interface ThresholdTally {
  readonly rule: ThresholdRule;
  readonly counted: readonly string[];
  readonly missing: number;
}

const FILE = POLICY_PATH;

/**
 * The rules of a channel.yaml, checked beyond its schema: signer names unique (rules name them),
 * every name a rule lists exists once, and no count above its set — else `invalid` naming the field.
 */
export function thresholdRulesOf(channel: ChannelFile, policy: ThresholdRule['policy'] = 'old'): ThresholdRule[] {
  const names = channel.signers.map((s) => s.name);
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) invalid(`/signers/${i}/name`, `the signer name "${name}" appears twice: thresholds name signers, so names are unique`);
  });
  return (channel.thresholds ?? []).map((t, index) => {
    const field = `/thresholds/${index}`;
    t.paths.forEach((path, i) => assertSafePath(path.replace(/\/$/, ''), FILE, `${field}/paths/${i}`));
    const signers = t.signers ?? names;
    signers.forEach((name, i) => {
      if (!names.includes(name)) invalid(`${field}/signers/${i}`, `"${name}" is not a signer of this file (signers: ${names.join(', ') || 'none'})`);
      if (signers.indexOf(name) !== i) invalid(`${field}/signers/${i}`, `"${name}" is listed twice`);
    });
    if (t.count > signers.length) invalid(`${field}/count`, `needs ${t.count} signatures but only ${signers.length} signer${signers.length === 1 ? '' : 's'} can give one`);
    return { index, paths: t.paths, count: t.count, signers, policy };
  });
}

/** The paths a rule watches in a tree: the rule on channel.yaml watches the key files too. */
export function watchedPaths(rule: ThresholdRule, keyFiles: readonly string[]): string[] {
  const paths = rule.paths.flatMap((p) => (p === POLICY_PATH ? [p, ...keyFiles] : [p]));
  return [...new Set(paths)];
}

export function coversPolicy(rule: ThresholdRule): boolean {
  return rule.paths.includes(POLICY_PATH);
}

/** The commit id an approval names (first line `approve <40-hex id>`), or null when it is none. */
export function approvedCommit(message: string): string | null {
  const first = message.split('\n', 1)[0]!.replace(/\r$/, '').trim();
  return /^approve ([0-9a-f]{40})$/.exec(first)?.[1] ?? null;
}

export function approvalMessage(commit: string): string {
  return `approve ${commit}\n`;
}

/**
 * Counts a rule: each key once (a primary and its subkey are one fingerprint), only keys the rule
 * lists. `keys` maps the rule's fingerprints to their signer names.
 */
export function tallyRule(rule: ThresholdRule, keys: ReadonlyMap<string, string>, signedBy: Iterable<string>): ThresholdTally {
  const counted = new Set<string>();
  for (const fingerprint of signedBy) {
    const name = keys.get(fingerprint);
    if (name !== undefined) counted.add(name);
  }
  const names = [...counted].sort();
  return { rule, counted: names, missing: Math.max(0, rule.count - names.length) };
}

/** What a person must read to fix it: which rule, who counted, how many more, and how to add one. */
export function unmetMessage(commit: string, tally: ThresholdTally): string {
  const { rule, counted, missing } = tally;
  const whose = rule.policy === 'new' ? "this commit's channel.yaml" : 'channel.yaml';
  const who = counted.length > 0 ? `signed by ${counted.join(', ')}` : 'signed by none of them';
  return (
    `commit ${commit.slice(0, 12)}: ${rule.paths.join(', ')} needs ${rule.count} signatures of ${rule.signers.join(', ')} (${whose} /thresholds/${rule.index}); ` +
    `${who}: ${missing} missing (each adds a signed approval: duck release approve ${commit})`
  );
}

export function unmetError(commit: string, tally: ThresholdTally): DuckError {
  return new DuckError('threshold-unmet', unmetMessage(commit, tally), {
    commit,
    file: FILE,
    field: `/thresholds/${tally.rule.index}`,
    paths: [...tally.rule.paths],
    count: tally.rule.count,
    counted: [...tally.counted],
    missing: tally.missing,
    policy: tally.rule.policy,
  });
}

function invalid(field: string, why: string): never {
  throw new DuckError('invalid', `${FILE}: ${field}: ${why}`, { file: FILE, field });
}
