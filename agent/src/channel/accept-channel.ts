import { DuckError, toDuckError } from '../../../schemas/errors.js';
import type { TreeLimits } from '../core/limits.js';
import type { AcceptedAnchor, VerifiedSignatureFact } from '../core/agent-state.js';
import { parseDuration } from '../core/duration.js';
import type { ChannelTransport } from '../ports.js';
import type { PassedOver } from './accept-chain.js';
import { acceptChain, ChainRefusal } from './accept-chain.js';
import { parseCommitObject } from './commit-object.js';
import type { CommitTree } from './commit-tree.js';
import { openCommitTree } from './commit-tree.js';
import type { DeployedCommit } from './running-floor.js';
import type { ChannelContent } from './read-release.js';
import { readChannelContent } from './read-release.js';
import type { TrustedKey } from './signature.js';
import type { ScopeVerdict } from './signer-scope.js';
import type { ThresholdMet } from './thresholds.js';
import { verifiedCommitsOf } from './verified-content.js';

/** What the channel code needs: the clone, the root of trust, and what the node already knows. */
export interface AcceptInput {
  readonly transport: ChannelTransport;
  /** The agent's root keys, parsed when a walk first needs them. */
  readonly agentKeys: () => Promise<readonly TrustedKey[]>;
  readonly group: string;
  readonly limits: TreeLimits;
  readonly now: Date;
  /** The last accepted commit (null on the first run). */
  readonly previous: AcceptedAnchor | null;
  /** The newest agent-clock time seen: a clock behind it decides nothing. */
  readonly newestTimeSeen: string | null;
  /** Signature facts already known, by commit id. */
  readonly verified: (commit: string) => VerifiedSignatureFact | undefined;
  /** With no previous anchor: what the node's running stacks were deployed from (a floor that survives the state). */
  readonly deployed?: readonly DeployedCommit[];
}

/** The fetch stage's answer: the tip the server advertises, and whether a pack was downloaded. */
export interface FetchedChannel {
  readonly tip: string;
  readonly fetched: boolean;
}

export interface AcceptedChannel {
  readonly anchor: AcceptedAnchor;
  /** True when this check moved the accepted commit forward. */
  readonly changed: boolean;
  /** False when the branch tip had not moved: one ref request, no pack download. */
  readonly fetched: boolean;
  readonly stale: boolean;
  readonly freshnessMs: number | null;
  readonly content: ChannelContent;
  /** The accepted commit's tree, to read further releases (an overlay pin) by object id. */
  readonly tree: CommitTree;
  readonly passedOver: readonly PassedOver[];
  /** The accepted signer's scope and a promotion's base, when this check verified a new commit. */
  readonly scope: ScopeVerdict | null;
  readonly walked: number;
  /** What counted for each k-of-n rule the accepted tip touched (none when nothing was walked). */
  readonly thresholds: readonly ThresholdMet[];
  /** Signature facts the walk learned: the caller keeps them with the state. */
  readonly learned: Readonly<Record<string, VerifiedSignatureFact>>;
}

// NTP steps a clock back by a little; only a real regression must stop time-based decisions.
export const CLOCK_TOLERANCE_MS = 2 * 60_000;

/**
 * DESIGN §4.5: one ref request; a pack only when the tip is not in the local clone. A clone that
 * lost the anchor is broken: it is fetched again from nothing, never trusted as it is.
 */
export async function fetchChannel(transport: ChannelTransport, previous: AcceptedAnchor | null): Promise<FetchedChannel> {
  const tip = await transport.remoteTip();
  const anchorMissing = async (): Promise<boolean> => previous !== null && !(await transport.objects.has(previous.commit));
  // A download refused (too-large) is a refusal of this tip.
  const fetchTip = (): Promise<string> => transport.fetch().catch((err: unknown) => {
    throw withTip(err, tip);
  });
  let fetched = false;
  if (!(await transport.objects.has(tip)) || (await anchorMissing())) {
    await fetchTip();
    fetched = true;
  }
  if (await anchorMissing()) {
    await transport.reset();
    await fetchTip();
  }
  return { tip, fetched };
}

/**
 * DESIGN §3: accept the fetched tip, or throw its one typed refusal (with the tip in its data).
 * Nothing is written here: the caller records the outcome, so a refusal changes nothing else.
 */
export async function acceptTip(input: AcceptInput, fetched: FetchedChannel): Promise<AcceptedChannel> {
  assertClockMovesForward(input.newestTimeSeen, input.now);
  try {
    return await acceptFrom(input, fetched.tip, fetched.fetched);
  } catch (err) {
    if (toDuckError(err).code !== 'internal') throw err;
    // Unreadable objects: a broken clone is fetched again from nothing and verified from the anchor.
    await input.transport.reset();
    await input.transport.fetch();
    return acceptFrom(input, fetched.tip, true);
  }
}

async function acceptFrom(input: AcceptInput, tip: string, fetched: boolean): Promise<AcceptedChannel> {
  const { transport, now, previous } = input;
  if (previous && !(await transport.objects.has(previous.commit))) {
    throw new DuckError(
      'history-rewritten',
      `the last accepted commit ${previous.commit.slice(0, 12)} is no longer in the channel's history: it was rewritten (roll back with git revert)`,
      { commit: tip, tip, anchor: previous.commit },
    );
  }
  // Root keys are not in the key: an unchanged tip is not walked again, so they decide nothing here.
  const verifiedKey = [input.group, input.limits.maxFileBytes, input.limits.maxReleaseFiles].join(' ');
  const commits = verifiedCommitsOf(transport.objects);
  // The tip is the anchor and nothing was downloaded: nothing new to verify (a walk of no commit checks
  // no signature), so neither the trust policy nor a key is read; only the content (once per process,
  // then kept: nothing can have changed but the clock) and its freshness.
  if (!fetched && previous?.commit === tip) {
    let known = commits.get(`${tip} ${verifiedKey}`);
    if (!known) {
      known = await readAccepted(input, tip).catch((err: unknown) => {
        throw withTip(err, tip);
      });
      commits.set(`${tip} ${verifiedKey}`, known);
    }
    const { stale, freshnessMs } = channelFreshness(known.content.channel.freshness, known.committedAt, now);
    return { anchor: previous, changed: false, fetched, stale, freshnessMs, content: known.content, tree: known.tree, passedOver: [], scope: null, walked: 0, thresholds: [], learned: {} };
  }
  const chain = await acceptChain({
    objects: transport.objects,
    tip,
    anchor: previous?.commit ?? null,
    agentKeys: await input.agentKeys(),
    now,
    limits: input.limits,
    verified: input.verified,
    ...(input.deployed ? { deployed: input.deployed } : {}),
  }).catch((err: unknown) => {
    throw withTip(err, tip);
  });
  const content = await readChannelContent(chain.accepted.tree, input.group).catch((err: unknown) => {
    const e = withTip(err, tip);
    // The signatures were good: what the walk learned stays true whatever the content says.
    throw e.isRefusal ? new ChainRefusal(e, chain.learned) : e;
  });
  const { accepted } = chain;
  const changed = previous?.commit !== accepted.commit;
  const anchor: AcceptedAnchor =
    !changed && previous
      ? previous
      : {
          commit: accepted.commit,
          signerFingerprint: accepted.signer.fingerprint,
          signerName: accepted.signer.name,
          committedAt: accepted.committedAt.toISOString(),
          acceptedAt: now.toISOString(),
          channelVersion: accepted.policy.channelVersion,
        };
  const { stale, freshnessMs } = channelFreshness(content.channel.freshness, accepted.committedAt, now);
  commits.set(`${accepted.commit} ${verifiedKey}`, { content, tree: chain.accepted.tree, committedAt: accepted.committedAt });
  return { anchor, changed, fetched, stale, freshnessMs, content, tree: chain.accepted.tree, passedOver: chain.passedOver, scope: changed ? accepted.scope : null, walked: chain.walked, thresholds: accepted.thresholds, learned: chain.learned };
}

/** The accepted commit's content, read from the clone without a walk. */
async function readAccepted(input: AcceptInput, commit: string): Promise<{ content: ChannelContent; tree: CommitTree; committedAt: Date }> {
  const parsed = parseCommitObject(await input.transport.objects.readCommitRaw(commit), commit);
  const tree = openCommitTree(input.transport.objects, commit, parsed.tree, input.limits);
  return { content: await readChannelContent(tree, input.group), tree, committedAt: new Date(parsed.committedAt * 1000) };
}

/** Stale: the accepted commit is older than channel.yaml's freshness (a warning, never a refusal). */
export function channelFreshness(freshness: string | undefined, committedAt: Date, now: Date): { stale: boolean; freshnessMs: number | null } {
  const freshnessMs = freshness ? parseDuration(freshness, { file: 'channel.yaml', field: '/freshness' }) : null;
  return { stale: freshnessMs !== null && now.getTime() - committedAt.getTime() > freshnessMs, freshnessMs };
}

function withTip(err: unknown, tip: string): DuckError {
  const e = toDuckError(err);
  if (e.isRefusal && e.data.tip === undefined) e.data.tip = tip;
  return e;
}

export function assertClockMovesForward(newestSeen: string | null, now: Date): void {
  if (newestSeen && now.getTime() < Date.parse(newestSeen) - CLOCK_TOLERANCE_MS) {
    throw new DuckError(
      'clock-regressed',
      `the clock reads ${now.toISOString()}, behind ${newestSeen} already seen: no time-based decision until it is right again`,
      { newestSeen, now: now.toISOString() },
    );
  }
}
