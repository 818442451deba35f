// When a version's failures in a group call for a person: the rate and the threshold rule, pure.
// Failures are nodes where the release itself failed; the node's own faults are counted apart.
import type { OutcomeCounts } from './store/fleet-store.js';

export interface AlertPolicy {
  /** 0..1 */
  threshold: number;
  minAttempts: number;
}

export interface FailureRate {
  /** Nodes that tried the version: it applied there, or failed by its own fault. */
  attempts: number;
  /** Nodes where the release failed (health, probes, start), each once however often it retried. */
  failures: number;
  /** failures / attempts; 0 with no attempts. */
  rate: number;
  /** Nodes whose only failures were their own (engine, space, a kill): shown apart, never in the rate. */
  infrastructureFailures: number;
}

/** Counted in nodes (change-verdict.ts); deferred changes are no attempt: the old version kept running. */
export function failureRate(counts: Pick<OutcomeCounts, 'nodes'>): FailureRate {
  const { applied, releaseFailed, infrastructureFailed } = counts.nodes;
  const attempts = applied + releaseFailed;
  return { attempts, failures: releaseFailed, rate: attempts === 0 ? 0 : releaseFailed / attempts, infrastructureFailures: infrastructureFailed };
}

export function crossesThreshold(rate: FailureRate, policy: AlertPolicy): boolean {
  return rate.attempts >= policy.minAttempts && rate.rate >= policy.threshold;
}
