import type { AcceptedAnchor } from '../core/agent-state.js';
import { parseDuration } from '../core/duration.js';
import { DuckError, toDuckError } from '../../../schemas/errors.js';
import type { StateStore } from '../adapters/state-lowdb.js';
import type { PassedOver } from './accept-chain.js';
import { acceptChain } from './accept-chain.js';
import type { CommitTree } from './commit-tree.js';
import type { ChannelTransport } from './git-objects.js';
import type { ChannelContent } from './read-release.js';
import { readChannelContent } from './read-release.js';
import type { TrustedKey } from './signature.js';

export interface AcceptDeps {
  readonly transport: ChannelTransport;
  readonly state: StateStore;
  readonly agentKeys: readonly TrustedKey[];
  readonly group: string;
  readonly maxFileBytes: number;
  readonly now: Date;
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
  readonly walked: number;
}

// NTP steps a clock back by a little; only a real regression must stop time-based decisions.
export const CLOCK_TOLERANCE_MS = 2 * 60_000;

/**
 * Fetch, then accept (DESIGN §3). On a refusal nothing but the refusal record changes: the
 * anchor stays, and the caller leaves the stacks as they are.
 */
export async function acceptChannel(deps: AcceptDeps): Promise<AcceptedChannel> {
  const { state, now } = deps;
  try {
    assertClockMovesForward(state.read().newestTimeSeen, now);
    const result = await fetchAndAccept(deps);
    await state.update((s) => {
      s.channel.anchor = result.anchor;
      s.channel.lastRefusal = null;
      s.channel.lastCheckAt = now.toISOString();
      s.newestTimeSeen = maxIso(s.newestTimeSeen, now);
    });
    return result;
  } catch (err) {
    const e = toDuckError(err);
    if (e.isRefusal) {
      await state.update((s) => {
        s.channel.lastRefusal = { tip: String(e.data.tip ?? e.data.commit ?? ''), reason: e.code, message: e.message, at: now.toISOString() };
        s.channel.lastCheckAt = now.toISOString();
        s.newestTimeSeen = maxIso(s.newestTimeSeen, now);
      });
    }
    throw e;
  }
}

async function fetchAndAccept(deps: AcceptDeps): Promise<AcceptedChannel> {
  const { transport, state } = deps;
  const previous = state.read().channel.anchor;
  const remoteTip = await transport.remoteTip();
  const anchorMissing = async (): Promise<boolean> => previous !== null && !(await transport.objects.has(previous.commit));
  let fetched = false;
  if (!(await transport.objects.has(remoteTip)) || (await anchorMissing())) {
    await transport.fetch();
    fetched = true;
  }
  if (await anchorMissing()) {
    // The anchor should be local: the clone is broken. Fetch again from nothing, never trust what is there.
    await transport.reset();
    await transport.fetch();
  }
  try {
    return await acceptFrom(deps, remoteTip, previous, fetched);
  } catch (err) {
    if (toDuckError(err).code !== 'internal') throw err;
    // Unreadable objects: a broken clone is fetched again from nothing and verified from the anchor.
    await transport.reset();
    await transport.fetch();
    return acceptFrom(deps, remoteTip, previous, true);
  }
}

async function acceptFrom(deps: AcceptDeps, tip: string, previous: AcceptedAnchor | null, fetched: boolean): Promise<AcceptedChannel> {
  const { transport, now } = deps;
  if (previous && !(await transport.objects.has(previous.commit))) {
    throw new DuckError(
      'history-rewritten',
      `the last accepted commit ${previous.commit.slice(0, 12)} is no longer in the channel's history: it was rewritten (roll back with git revert)`,
      { commit: tip, tip, anchor: previous.commit },
    );
  }
  const verified = deps.state.read().channel.verified;
  const chain = await acceptChain({
    objects: transport.objects,
    tip,
    anchor: previous?.commit ?? null,
    agentKeys: deps.agentKeys,
    now,
    maxFileBytes: deps.maxFileBytes,
    verified: { get: (oid) => verified[oid], set: (oid, entry) => (verified[oid] = entry) },
  }).catch((err: unknown) => {
    throw withTip(err, tip);
  });
  const content = await readChannelContent(chain.accepted.tree, deps.group).catch((err: unknown) => {
    throw withTip(err, tip);
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
  return { anchor, changed, fetched, stale, freshnessMs, content, tree: chain.accepted.tree, passedOver: chain.passedOver, walked: chain.walked };
}

/** Stale: the accepted commit is older than channel.yaml's freshness (the reporter reuses this). */
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

function maxIso(a: string | null, b: Date): string {
  return a && Date.parse(a) > b.getTime() ? a : b.toISOString();
}
