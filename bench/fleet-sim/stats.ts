// What the simulator measures, per second and over the run (pure): requests answered by second of
// completion, their latency percentiles, errors, and how late the generator sent them (its lag
// bounds what a run can claim: a late send is load the server did not get on time).
export interface Outcome {
  /** Milliseconds since the run's start when the answer came. */
  doneAt: number;
  latencyMs: number;
  /** How long after its turn the request went out. */
  lagMs: number;
  ok: boolean;
}

export interface SecondRow {
  second: number;
  reports: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxLagMs: number;
  /** The servers' resident memory summed, sampled in that second. */
  rssMiB: number;
}

export interface RunFigures {
  /** From the start to the last answer: longer than the schedule when the server fell behind. */
  seconds: number;
  ok: number;
  errors: number;
  /** Answered reports over `seconds`: the offered rate when the server kept up, its capacity when not. */
  reportsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  p99LagMs: number;
  /** What an agent waits from its turn to the answer: the send lag plus the latency. */
  p99FromTurnMs: number;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function perSecond(outcomes: readonly Outcome[], rss: ReadonlyMap<number, number>): SecondRow[] {
  const buckets = new Map<number, Outcome[]>();
  for (const o of outcomes) {
    const s = Math.floor(o.doneAt / 1000);
    let bucket = buckets.get(s);
    if (!bucket) buckets.set(s, (bucket = []));
    bucket.push(o);
  }
  const last = Math.max(-1, ...buckets.keys(), ...rss.keys());
  return Array.from({ length: last + 1 }, (_, second) => {
    const bucket = buckets.get(second) ?? [];
    const latencies = bucket.filter((o) => o.ok).map((o) => o.latencyMs);
    return {
      second,
      reports: latencies.length,
      errors: bucket.length - latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxLagMs: bucket.reduce((m, o) => Math.max(m, o.lagMs), 0),
      rssMiB: rss.get(second) ?? 0,
    };
  });
}

export function figures(outcomes: readonly Outcome[], durationMs: number): RunFigures {
  const answered = outcomes.filter((o) => o.ok);
  const latencies = answered.map((o) => o.latencyMs);
  const elapsedMs = outcomes.reduce((end, o) => Math.max(end, o.doneAt), durationMs);
  return {
    seconds: elapsedMs / 1000,
    ok: latencies.length,
    errors: outcomes.length - latencies.length,
    reportsPerSecond: latencies.length / (elapsedMs / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    p99LagMs: percentile(outcomes.map((o) => o.lagMs), 99),
    p99FromTurnMs: percentile(answered.map((o) => o.lagMs + o.latencyMs), 99),
  };
}

export const CSV_HEADER = 'target,second,reports,errors,p50_ms,p99_ms,max_lag_ms,rss_mib';

export function csvRows(target: string, rows: readonly SecondRow[]): string[] {
  return rows.map((r) => [target, r.second, r.reports, r.errors, r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), r.maxLagMs.toFixed(1), r.rssMiB.toFixed(1)].join(','));
}
