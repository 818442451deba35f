// `duck-controller serve`: flags (tokens also from the environment) → startController, one ready
// line on stdout, JSON log lines on stderr, and an orderly stop on SIGTERM/SIGINT.
import { defineCommand } from 'citty';
import { DEFAULT_SETTINGS } from './deps.js';
import { parseDuration } from './duration.js';
import { jsonLineLog } from './log.js';
import { startController, type StartOptions } from './server.js';
import { checkStoreUrl } from './store/open-store.js';

function number(text: string | undefined, option: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new Error(`${option}: "${text}" is not a number`);
  return n;
}

function duration(text: string | undefined, option: string): number | undefined {
  return text === undefined || text === '' ? undefined : parseDuration(text, option);
}

function storeUrl(flag: string | undefined): string | undefined {
  if (flag) return checkStoreUrl(flag, '--store');
  const env = process.env.DUCK_STORE_URL;
  return env ? checkStoreUrl(env, 'DUCK_STORE_URL') : undefined;
}

export default defineCommand({
  meta: { name: 'serve', description: 'Serve the controller API, /metrics and the dashboard' },
  args: {
    port: { type: 'string', description: 'TCP port (0 picks a free one)', default: '8080' },
    host: { type: 'string', description: 'Address to listen on', default: '127.0.0.1' },
    data: { type: 'string', description: 'Data directory (the fleet file and diagnostics bundles)', required: true },
    store: {
      type: 'string',
      description: 'Keep the fleet in PostgreSQL: postgres://user:password@host:port/database (or DUCK_STORE_URL); default: fleet.json under --data',
    },
    'enroll-token': { type: 'string', description: 'Fleet enrollment token (or DUCK_ENROLL_TOKEN)' },
    'admin-token': { type: 'string', description: 'Admin token for the read API and dashboard (or DUCK_ADMIN_TOKEN)' },
    'read-token': {
      type: 'string',
      description: 'A read-only token: the GET routes of the admin API, nothing that writes; for CI (duck release gate) (or DUCK_READ_TOKEN)',
    },
    'max-diagnostics-bytes': { type: 'string', description: `Largest diagnostics upload (default ${DEFAULT_SETTINGS.maxDiagnosticsBytes})` },
    'alert-webhook': { type: 'string', description: 'URL that receives failure-rate alerts (JSON POST)' },
    'alert-threshold': { type: 'string', description: 'Failure rate (0..1) of a version in a group that raises an alert (default 0.2)' },
    'alert-min-attempts': { type: 'string', description: 'Nodes that tried a version before its failure rate counts (default 3)' },
    'offline-after': { type: 'string', description: 'An agent silent this long is offline (default 15m)' },
    'event-retention': { type: 'string', description: 'How long events are kept (default 90d)' },
    'diagnostics-retention': { type: 'string', description: 'How long diagnostics bundles are kept (default 30d)' },
    'diagnostics-per-agent': { type: 'string', description: `Diagnostics bundles kept per agent, the newest (default ${DEFAULT_SETTINGS.diagnosticsPerAgent})` },
    'summary-max-age': {
      type: 'string',
      description: 'How old the fleet summary (GET /api/v1/fleet) may be, e.g. 10s for a fleet of 100,000 agents (default 0: computed per request)',
    },
  },
  async run({ args }) {
    const log = jsonLineLog((line) => process.stderr.write(line));
    let options: StartOptions;
    try {
      options = {
        dataDir: args.data,
        storeUrl: storeUrl(args.store),
        host: args.host,
        port: number(args.port, '--port'),
        enrollToken: args['enroll-token'] ?? process.env.DUCK_ENROLL_TOKEN ?? '',
        adminToken: args['admin-token'] ?? process.env.DUCK_ADMIN_TOKEN ?? '',
        readToken: args['read-token'] ?? process.env.DUCK_READ_TOKEN ?? undefined,
        maxDiagnosticsBytes: number(args['max-diagnostics-bytes'], '--max-diagnostics-bytes'),
        alertWebhook: args['alert-webhook'] || undefined,
        alertThreshold: number(args['alert-threshold'], '--alert-threshold'),
        alertMinAttempts: number(args['alert-min-attempts'], '--alert-min-attempts'),
        offlineAfterMs: duration(args['offline-after'], '--offline-after'),
        eventRetentionMs: duration(args['event-retention'], '--event-retention'),
        diagnosticsRetentionMs: duration(args['diagnostics-retention'], '--diagnostics-retention'),
        diagnosticsPerAgent: number(args['diagnostics-per-agent'], '--diagnostics-per-agent'),
        summaryMaxAgeMs: duration(args['summary-max-age'], '--summary-max-age'),
        log,
      };
    } catch (err) {
      process.stderr.write(`duck-controller: ${(err as Error).message}\n`);
      process.exit(2);
    }
    let running;
    try {
      running = await startController(options);
    } catch (err) {
      process.stderr.write(`duck-controller: ${(err as Error).message}\n`);
      process.exit(1);
    }
    process.stdout.write(`duck-controller listening on ${running.url}\n`);
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log({ event: 'stopping', signal });
      running.close().then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`duck-controller: stopping failed: ${(err as Error).message}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  },
});
