// When a version's failures in a group call for a person: the rate and the threshold rule, pure.
import type { OutcomeCounts } from './store/fleet-store.js';

export interface AlertPolicy {
  /** 0..1 */
  threshold: number;
  minAttempts: number;
}

export interface FailureRate {
  attempts: number;
  failures: number;
  /** failures / attempts; 0 with no attempts. */
  rate: number;
}

/** Deferred changes are not attempts: the update lock kept the old version running. */
export function failureRate(counts: Pick<OutcomeCounts, 'applied' | 'rolledBack' | 'rollbackFailed'>): FailureRate {
  const failures = counts.rolledBack + counts.rollbackFailed;
  const attempts = counts.applied + failures;
  return { attempts, failures, rate: attempts === 0 ? 0 : failures / attempts };
}

export function crossesThreshold(rate: FailureRate, policy: AlertPolicy): boolean {
  return rate.attempts >= policy.minAttempts && rate.rate >= policy.threshold;
}
