// The simulator's command line (pure): `npm run fleet-sim -- --agents N --interval 60s --duration 5m
// [--store postgres://…] [--instances K] [--concurrency C] [--summary-max-age 10s] [--csv FILE] [--keep DIR]`.
import { parseArgs } from 'node:util';
import { parseDuration } from '../../controller/src/duration.js';

export interface SimOptions {
  agents: number;
  intervalMs: number;
  durationMs: number;
  /** PostgreSQL URL; the embedded store under a temp directory when absent. */
  storeUrl: string | null;
  instances: number;
  /** Requests in flight per server, at most. */
  concurrency: number;
  /** Handed to each controller's --summary-max-age (how old GET /api/v1/fleet's summary may be); its default when absent. */
  summaryMaxAge: string | null;
  csv: string | null;
  /** Keep the controllers' data here instead of a temp directory removed at the end. */
  keep: string | null;
}

export const USAGE =
  'usage: npm run fleet-sim -- --agents N --interval 60s --duration 5m [--store postgres://…] [--instances K] [--concurrency C] [--summary-max-age 10s] [--csv FILE] [--keep DIR]';

function count(text: string | undefined, option: string, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`${option}: "${text}" must be a whole number, at least ${min}`);
  return n;
}

export function parseSimOptions(argv: readonly string[]): SimOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      agents: { type: 'string' },
      interval: { type: 'string' },
      duration: { type: 'string' },
      store: { type: 'string' },
      instances: { type: 'string' },
      concurrency: { type: 'string' },
      'summary-max-age': { type: 'string' },
      csv: { type: 'string' },
      keep: { type: 'string' },
    },
    strict: true,
  });
  const storeUrl = values.store ?? null;
  if (storeUrl !== null && !/^postgres(ql)?:\/\//.test(storeUrl)) throw new Error(`--store: "${storeUrl}" is not a postgres:// URL`);
  const instances = count(values.instances, '--instances', 1, 1);
  // One embedded store is one file that one process owns.
  if (instances > 1 && storeUrl === null) throw new Error('--instances: more than one controller needs --store postgres://… (the embedded store belongs to one process)');
  return {
    agents: count(values.agents, '--agents', 1000, 1),
    intervalMs: values.interval === undefined ? 60_000 : parseDuration(values.interval, '--interval'),
    durationMs: values.duration === undefined ? 5 * 60_000 : parseDuration(values.duration, '--duration'),
    storeUrl,
    instances,
    concurrency: count(values.concurrency, '--concurrency', 256, 1),
    summaryMaxAge: values['summary-max-age'] === undefined ? null : (parseDuration(values['summary-max-age'], '--summary-max-age'), values['summary-max-age']),
    csv: values.csv ?? null,
    keep: values.keep ?? null,
  };
}
