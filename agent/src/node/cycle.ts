import { DuckError, toDuckError } from '../../../schemas/errors.js';
import type { ApplyEnv } from '../apply/apply-env.js';
import type { ChangeResult } from '../apply/apply-change.js';
import { applyChange } from '../apply/apply-change.js';
import type { AcceptedChannel, FetchedChannel } from '../channel/accept-channel.js';
import { ChainRefusal } from '../channel/accept-chain.js';
import { acceptTip, fetchChannel } from '../channel/accept-channel.js';
import { acceptNeedsRecord, recordAccepted, recordFetchFailure, recordRefusal } from '../core/channel-record.js';
import type { FetchThrottle } from '../core/fetch-retry.js';
import { fetchRetryAt, THROTTLE_STATUSES } from '../core/fetch-retry.js';
import { nextPollAt, pollOffsetMs } from '../core/poll-schedule.js';
import type { Announcement, OverlayFile } from '../../../schemas/index.js';
import type { Wait } from '../core/steps.js';
import type { Logger, StateSnapshot } from '../ports.js';
import type { Plan } from '../core/change.js';
import type { AcceptedView, Resolved } from './decisions.js';
import { acceptedFreshness, agentIdOf, clockRegressedAt, deployedCommits, planChanges, readAcceptedLocally, resolveDesired } from './decisions.js';
import type { NodeParts } from './wiring.js';
import type { AgentDecision } from './agent-decision.js';
import { decideAgentOnNode, runningBuild } from './agent-decision.js';
import { announcementsOnNode } from './announcements.js';

/**
 * One reconcile cycle (DESIGN §4.5), as Flux's reconcilers keep theirs: a named list of stages,
 * each returning a typed outcome the next one reads —
 *
 *   fetch → accept → resolve → plan → apply → report
 *
 * A refused or unreachable channel keeps the last accepted commit in force: the later stages run
 * on it, so windows, schedules and operators' pins still act while the channel is down.
 */
export const CYCLE_STAGES = ['fetch', 'accept', 'resolve', 'plan', 'apply', 'report'] as const;

export interface CycleOptions {
  /** A poll fetches; a re-plan (an overlay edit, an operator's upgrade) works from the accepted commit. */
  readonly fetch: boolean;
  /** Apps an operator asked to move now (`duck upgrade`), or 'all'. */
  readonly upgradeNow?: ReadonlySet<string> | 'all';
  /** Only these apps are changed (duck upgrade shop, duck retry shop). */
  readonly only?: ReadonlySet<string>;
}

export type FetchOutcome =
  | { readonly status: 'skipped' }
  | { readonly status: 'fetched' | 'unchanged'; readonly channel: FetchedChannel }
  | { readonly status: 'failed'; readonly error: DuckError };

export type AcceptOutcome =
  | { readonly status: 'accepted'; readonly accepted: AcceptedChannel }
  | { readonly status: 'refused'; readonly error: DuckError }
  /** The fetch failed (network, deadline, server error, oversized download): apart from a refusal. */
  | { readonly status: 'unreachable'; readonly error: DuckError }
  /** Nothing fetched this cycle: the last accepted commit stays in force. */
  | { readonly status: 'kept' };

export interface ResolveOutcome {
  /** The accepted commit the decisions were made on; null before the first accept. */
  readonly view: AcceptedView | null;
  readonly resolved: Resolved | null;
  /** Whether the agent moves its own build (DESIGN §4.7), on the same commit, overlay and clock; null before the first accept. */
  readonly agent: AgentDecision | null;
  /** The last idle cycle's decisions were kept: nothing they rest on had moved (DecisionReuse). */
  readonly reused?: boolean;
}

export interface PlanOutcome {
  readonly plan: Plan | null;
}

export interface ApplyOutcome {
  readonly changes: readonly ChangeResult[];
}

/** What one cycle found and did, stage by stage: the daemon logs it, the reporter reads it. */
export interface CycleOutcome {
  readonly at: string;
  readonly fetch: FetchOutcome;
  readonly accept: AcceptOutcome;
  readonly resolve: ResolveOutcome;
  readonly plan: PlanOutcome;
  readonly apply: ApplyOutcome;
  /** The accepted commit acted on, and why the channel could not be checked, if it could not. */
  readonly commit: string | null;
  readonly refusal: { readonly reason: string; readonly message: string } | null;
  /** Why this cycle's fetch failed, if it did. */
  readonly unreachable: { readonly reason: string; readonly message: string } | null;
  readonly waits: readonly Wait[];
  /** The accepted commit is older than the channel's freshness (a warning, not a refusal). */
  readonly stale: boolean;
  /** The channel's announcements in force on this node after this cycle's changes (DESIGN §4.10). */
  readonly announcements: readonly Announcement[];
}

export interface CycleDeps {
  readonly node: NodeParts;
  readonly log: Logger;
  /** The overlay in force (the daemon's watcher holds the last good one). */
  readonly overlay: OverlayFile;
  /** What applying needs, built only when there is a change to make: a poll works with the engine down. */
  env(): Promise<ApplyEnv>;
  /** The report stage: queue what happened for the controller (the daemon's reporter), if any. */
  readonly report?: (outcome: CycleOutcome) => Promise<void>;
  /** The daemon's memory of its last idle cycle's decisions, across cycles. */
  readonly reuse?: DecisionReuse;
}

/**
 * An idle daemon's polls find the same tip, overlay and state: resolve and plan would answer as
 * they did, so their answer is kept — for as long as the clock crosses none of its edges
 * (Resolved.validUntil: windows, holds, back-offs, schedules, rollout steps; at most a minute).
 * Only a cycle that planned no change and admitted no rollout is kept; anything else (a new tip,
 * an overlay edit, any state write, an operator's request) decides afresh.
 */
export interface DecisionReuse {
  last: KeptDecisions | null;
}

interface KeptDecisions {
  readonly commit: string;
  readonly content: AcceptedView['content'];
  readonly overlay: OverlayFile;
  readonly state: StateSnapshot;
  readonly at: number;
  readonly resolve: ResolveOutcome;
  readonly plan: PlanOutcome;
}

export function decisionReuse(): DecisionReuse {
  return { last: null };
}

export async function runCycle(deps: CycleDeps, opts: CycleOptions): Promise<CycleOutcome> {
  const fetch = await fetchStage(deps, opts);
  const accept = await acceptStage(deps, fetch);
  const kept = keptDecisions(deps, accept, opts);
  const resolve = kept?.resolve ?? (await resolveStage(deps, accept, opts));
  const plan = kept?.plan ?? planStage(deps, resolve);
  if (!kept) keepDecisions(deps, accept, opts, resolve, plan);
  const apply = await applyStage(deps, plan, opts);
  // After the changes: a notice targets the versions the node runs now.
  const { inForce: announcements } = await announcementsOnNode(deps.node, resolve.view);
  const outcome = summarize(deps, { fetch, accept, resolve, plan, apply }, announcements);
  await deps.report?.(outcome);
  return outcome;
}

/**
 * The fetch and accept stages alone (duck verify, duck check): the accepted commit, or the refusal
 * thrown. `allowReset`: the operator accepts a tip that does not descend from what runs (`duck verify --allow-reset`).
 */
export async function checkChannel(deps: Pick<CycleDeps, 'node' | 'log'>, opts: { allowReset?: boolean } = {}): Promise<AcceptedChannel> {
  const accept = await acceptStage(deps, await fetchStage(deps, { fetch: true }), opts);
  if (accept.status === 'refused' || accept.status === 'unreachable') throw accept.error;
  if (accept.status !== 'accepted') throw new DuckError('internal', 'the channel was not checked');
  return accept.accepted;
}

async function fetchStage({ node }: Pick<CycleDeps, 'node'>, opts: CycleOptions): Promise<FetchOutcome> {
  if (!opts.fetch) return { status: 'skipped' };
  try {
    const channel = await fetchChannel(node.transport, node.state.read().channel.anchor, node.clock().getTime());
    return { status: channel.fetched ? 'fetched' : 'unchanged', channel };
  } catch (err) {
    return { status: 'failed', error: toDuckError(err) };
  }
}

/** Verify the fetched tip, and record the answer: a new anchor, or the refusal alone. */
async function acceptStage({ node, log }: Pick<CycleDeps, 'node' | 'log'>, fetch: FetchOutcome, opts: { allowReset?: boolean } = {}): Promise<AcceptOutcome> {
  if (fetch.status === 'skipped') return { status: 'kept' };
  const now = node.clock();
  // A download refused for what it holds (a blob over the cap) is a refusal of that tip; a channel
  // that could not be reached or answered badly is a fetch failure, kept apart.
  if (fetch.status === 'failed' && !fetch.error.isRefusal) return recordUnreachable({ node, log }, fetch.error, now);
  const wasUnreachable = node.state.read().channel.fetchFailure ?? null;
  if (wasUnreachable) log('channel-reachable', { failures: wasUnreachable.failures, since: wasUnreachable.since });
  try {
    if (fetch.status === 'failed') throw fetch.error;
    const state = node.state.read();
    const deployed = state.channel.anchor || opts.allowReset ? [] : await deployedCommits(node);
    if (deployed.length > 0) log('state-lost', { message: 'the state has no accepted commit while stacks this agent deployed run: the channel tip must descend from them', deployed });
    const accepted = await acceptTip(
      {
        transport: node.transport,
        agentKeys: node.agentKeys,
        group: node.config.group,
        limits: node.config.limits,
        now,
        previous: state.channel.anchor,
        newestTimeSeen: state.newestTimeSeen,
        verified: (oid) => state.channel.verified[oid],
        deployed,
      },
      fetch.channel,
    );
    // An unchanged tip refreshes only the check time: not written at every poll (CHECK_RECORD_MS).
    const { pointerFailure } = fetch.channel;
    if (acceptNeedsRecord(node.state.read(), accepted.anchor, accepted.learned, now)) {
      await node.state.update((s) => recordAccepted(s, accepted.anchor, accepted.learned, now, pointerFailure !== undefined));
    }
    // The git host answered for a pointer that could not be read: shown like any fetch problem.
    if (pointerFailure) await recordUnreachable({ node, log }, pointerFailure, now);
    return { status: 'accepted', accepted };
  } catch (err) {
    const error = toDuckError(err);
    const learned = error instanceof ChainRefusal ? error.learned : {};
    const tip = String(error.data.tip ?? error.data.commit ?? '');
    const before = node.state.read().channel.lastRefusal;
    if (error.isRefusal) await node.state.update((s) => recordRefusal(s, { code: error.code, message: error.message, tip }, learned, now));
    // The same tip refused again at every poll is one refusal: logged when it starts.
    const again = error.isRefusal && before !== null && before.tip === tip && before.reason === error.code;
    if (!again) log('channel-refused', { reason: error.code, message: error.message });
    return { status: 'refused', error };
  }
}

/**
 * A fetch that failed is kept apart from a refusal: the run of failures is recorded with the next
 * poll, and logged when it starts or its cause changes, not at every poll.
 */
async function recordUnreachable({ node, log }: Pick<CycleDeps, 'node' | 'log'>, error: DuckError, now: Date): Promise<AcceptOutcome> {
  const before = node.state.read().channel.fetchFailure ?? null;
  const interval = node.config.channel.intervalMs;
  const agentId = agentIdOf(node.config, node.state.read()) ?? '';
  const nextTryAt = new Date(
    fetchRetryAt({
      now: now.getTime(),
      nextPoll: nextPollAt(now.getTime(), interval, pollOffsetMs(agentId, interval)),
      intervalMs: interval,
      failures: (before?.failures ?? 0) + 1,
      throttle: throttleOf(error),
      agentId,
    }),
  );
  const after = await node.state.update((s) => void recordFetchFailure(s, { code: error.code, message: error.message }, now, nextTryAt));
  // duck verify / duck check --json print the error: with it, when the channel is tried again.
  error.data.nextTryAt ??= nextTryAt.toISOString();
  if (!before || before.reason !== error.code || before.message !== error.message) {
    log('channel-unreachable', { reason: error.code, message: error.message, failures: after.channel.fetchFailure?.failures ?? 1, nextTryAt: nextTryAt.toISOString() });
  }
  return { status: 'unreachable', error };
}

/** A 429 or 503 from the pointer, a ref request or a pack request: its retry time honours Retry-After. */
function throttleOf(error: DuckError): FetchThrottle | null {
  const { status, retryAfter } = error.data;
  if (typeof status !== 'number' || !THROTTLE_STATUSES.has(status)) return null;
  return { status, ...(typeof retryAfter === 'string' ? { retryAfter } : {}) };
}

/** resolve() on the accepted commit; a node entering a rollout stays in (DESIGN §4.1). */
async function resolveStage({ node, overlay }: CycleDeps, accept: AcceptOutcome, opts: CycleOptions): Promise<ResolveOutcome> {
  const view: AcceptedView | null =
    accept.status === 'accepted'
      ? { commit: accept.accepted.anchor.commit, content: accept.accepted.content, tree: accept.accepted.tree }
      : await readAcceptedLocally(node);
  if (!view) return { view: null, resolved: null, agent: null };
  const resolved = await resolveDesired(node, view, { overlay, ...(opts.upgradeNow ? { upgradeNow: opts.upgradeNow } : {}) });
  const agent = await decideAgentOnNode(node, view, { running: runningBuild().version, overlay });
  const { admit } = resolved.desired;
  if (admit.length > 0) {
    const at = node.clock().toISOString();
    await node.state.update((s) => {
      for (const key of admit) s.admitted[key] ??= at;
    });
  }
  return { view, resolved, agent };
}

/** plan() on what runs now (after the admissions just recorded) and what resolve() asked for; the daemon logs its waits. */
function planStage({ node }: CycleDeps, resolve: ResolveOutcome): PlanOutcome {
  if (!resolve.resolved) return { plan: null };
  return { plan: planChanges(node.state.read(), resolve.resolved) };
}

/** The kept decisions, when this cycle's input is the one they were made on and the clock is before their edge. */
function keptDecisions({ node, overlay, reuse }: CycleDeps, accept: AcceptOutcome, opts: CycleOptions): { resolve: ResolveOutcome; plan: PlanOutcome } | null {
  const last = reuse?.last;
  if (!last || !reuse || opts.upgradeNow || opts.only || accept.status !== 'accepted') return null;
  const now = node.clock().getTime();
  const state = node.state.read();
  const resolved = last.resolve.resolved!;
  const same =
    accept.accepted.anchor.commit === last.commit &&
    accept.accepted.content === last.content &&
    overlay === last.overlay &&
    state === last.state &&
    now >= last.at &&
    now < resolved.validUntil.getTime() &&
    clockRegressedAt(state, new Date(now)) === resolved.clockRegressed;
  if (!same) {
    reuse.last = null;
    return null;
  }
  return { resolve: { ...last.resolve, reused: true }, plan: last.plan };
}

function keepDecisions({ node, overlay, reuse }: CycleDeps, accept: AcceptOutcome, opts: CycleOptions, resolve: ResolveOutcome, plan: PlanOutcome): void {
  if (!reuse) return;
  reuse.last = null;
  const { resolved, view } = resolve;
  if (accept.status !== 'accepted' || opts.upgradeNow || opts.only || !resolved || !view || !plan.plan) return;
  if (plan.plan.changes.length > 0 || resolved.desired.admit.length > 0) return;
  // Override files are read from disk, outside the watched overlay: they are hashed at every cycle.
  if (Object.values(overlay.compose ?? {}).some((o) => (o?.files ?? []).length > 0)) return;
  reuse.last = { commit: view.commit, content: view.content, overlay, state: node.state.read(), at: node.clock().getTime(), resolve, plan };
}

/** Each planned change in turn, journalled by applyChange; SIGTERM starts no new one. */
async function applyStage(deps: CycleDeps, planned: PlanOutcome, opts: CycleOptions): Promise<ApplyOutcome> {
  const { node, overlay } = deps;
  const changes: ChangeResult[] = [];
  const chosen = (planned.plan?.changes ?? []).filter((c) => !opts.only || opts.only.has(c.app));
  if (chosen.length === 0) return { changes };
  const env = await deps.env();
  for (const change of chosen) {
    if (env.signal?.aborted) break;
    const scheduled = change.trigger === 'schedule' ? overlay.schedule?.[change.app]?.at : undefined;
    // A one-shot schedule runs once, whatever its outcome.
    if (scheduled) await node.state.update((s) => void (s.schedulesDone[change.app] = scheduled));
    // An operator's duck upgrade is their say over a back-off: a new failure counts from one.
    if (change.trigger === 'upgrade' && node.state.read().backoff[change.app]) await node.state.update((s) => void delete s.backoff[change.app]);
    changes.push(await applyChange(env, change));
  }
  return { changes };
}

function summarize(
  { node }: CycleDeps,
  stages: Pick<CycleOutcome, 'fetch' | 'accept' | 'resolve' | 'plan' | 'apply'>,
  announcements: readonly Announcement[],
): CycleOutcome {
  const { accept, resolve, plan } = stages;
  const refusal = accept.status === 'refused' ? { reason: accept.error.code, message: accept.error.message } : null;
  const unreachable = accept.status === 'unreachable' ? { reason: accept.error.code, message: accept.error.message } : null;
  const stale = accept.status === 'accepted' ? accept.accepted.stale : acceptedFreshness(node, resolve.view).stale;
  return {
    at: node.clock().toISOString(),
    ...stages,
    commit: resolve.view?.commit ?? null,
    refusal,
    unreachable,
    waits: plan.plan?.waits ?? [],
    stale,
    announcements,
  };
}
