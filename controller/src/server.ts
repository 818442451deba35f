// Opens the store, wires the parts, listens on loopback unless told otherwise, and closes in
// order: stop accepting, let requests in flight finish, stop alert retries, flush the store.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlertNotifier } from './alerts.js';
import { createApp } from './app.js';
import { DEFAULT_SETTINGS, type AppDeps, type ControllerSettings } from './deps.js';
import { removeDiagnosticFile, removeStaleUploads } from './diagnostics-files.js';
import { silentLog, type Log } from './log.js';
import { ControllerMetrics } from './metrics.js';
import type { FleetStore } from './store/fleet-store.js';
import { openFleetStore } from './store/open-store.js';

const PRUNE_EVERY_MS = 3_600_000;
/** Requests still running this long after close() are cut. */
const CLOSE_GRACE_MS = 10_000;

export type StartOptions = Pick<ControllerSettings, 'dataDir' | 'enrollToken' | 'adminToken'> &
  Partial<ControllerSettings> & {
    host?: string;
    port?: number;
    log?: Log;
    /** A store opened by the caller (a test's, a benchmark's seeded one); the controller closes it. */
    store?: FleetStore;
    /** A postgres:// URL: the fleet lives in that database (diagnostics bundles stay in dataDir). Default: the embedded store in dataDir. */
    storeUrl?: string;
    /** Webhook retry backoff base; tests shorten it. */
    alertMinTimeoutMs?: number;
    now?: () => Date;
  };

export interface RunningController {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly store: FleetStore;
  close(): Promise<void>;
}

/** Throws an Error naming the setting when one is missing or out of range. */
export function checkSettings(opts: StartOptions): ControllerSettings {
  if (!opts.enrollToken) throw new Error('the enrollment token is missing (--enroll-token or DUCK_ENROLL_TOKEN)');
  if (!opts.adminToken) throw new Error('the admin token is missing (--admin-token or DUCK_ADMIN_TOKEN)');
  if (opts.enrollToken === opts.adminToken) throw new Error('the enrollment token and the admin token must differ');
  if (opts.readToken !== undefined && opts.readToken !== '' && (opts.readToken === opts.adminToken || opts.readToken === opts.enrollToken)) {
    throw new Error('the read-only token must differ from the admin token and the enrollment token');
  }
  const d = DEFAULT_SETTINGS;
  const settings: ControllerSettings = {
    dataDir: opts.dataDir,
    enrollToken: opts.enrollToken,
    adminToken: opts.adminToken,
    ...(opts.readToken ? { readToken: opts.readToken } : {}),
    maxDiagnosticsBytes: opts.maxDiagnosticsBytes ?? d.maxDiagnosticsBytes,
    maxReportBytes: opts.maxReportBytes ?? d.maxReportBytes,
    ...(opts.alertWebhook ? { alertWebhook: opts.alertWebhook } : {}),
    alertThreshold: opts.alertThreshold ?? d.alertThreshold,
    alertMinAttempts: opts.alertMinAttempts ?? d.alertMinAttempts,
    offlineAfterMs: opts.offlineAfterMs ?? d.offlineAfterMs,
    eventRetentionMs: opts.eventRetentionMs ?? d.eventRetentionMs,
    diagnosticsRetentionMs: opts.diagnosticsRetentionMs ?? d.diagnosticsRetentionMs,
    diagnosticsPerAgent: opts.diagnosticsPerAgent ?? d.diagnosticsPerAgent,
    summaryMaxAgeMs: opts.summaryMaxAgeMs ?? d.summaryMaxAgeMs,
  };
  if (!opts.dataDir) throw new Error('the data directory is missing (--data)');
  if (!(settings.alertThreshold >= 0 && settings.alertThreshold <= 1)) throw new Error(`--alert-threshold must be within 0..1, got ${settings.alertThreshold}`);
  if (!(Number.isInteger(settings.alertMinAttempts) && settings.alertMinAttempts >= 1)) {
    throw new Error(`--alert-min-attempts must be a whole number >= 1, got ${settings.alertMinAttempts}`);
  }
  if (!(Number.isSafeInteger(settings.maxDiagnosticsBytes) && settings.maxDiagnosticsBytes > 0)) {
    throw new Error(`--max-diagnostics-bytes must be a whole number > 0, got ${settings.maxDiagnosticsBytes}`);
  }
  if (!(Number.isSafeInteger(settings.diagnosticsPerAgent) && settings.diagnosticsPerAgent >= 1)) {
    throw new Error(`--diagnostics-per-agent must be a whole number >= 1, got ${settings.diagnosticsPerAgent}`);
  }
  if (settings.alertWebhook !== undefined && !/^https?:\/\//.test(settings.alertWebhook)) {
    throw new Error(`--alert-webhook must be an http(s) URL, got ${settings.alertWebhook}`);
  }
  return settings;
}

async function prune(deps: AppDeps): Promise<void> {
  const { settings, store, log } = deps;
  const result = await store.prune(deps.now(), settings);
  for (const d of result.diagnostics) await removeDiagnosticFile(settings.dataDir, d.id);
  const uploads = await removeStaleUploads(settings.dataDir, deps.now());
  if (result.events > 0 || result.diagnostics.length > 0 || uploads > 0) {
    log({ event: 'pruned', events: result.events, diagnostics: result.diagnostics.length, staleUploads: uploads });
  }
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startController(opts: StartOptions): Promise<RunningController> {
  const settings = checkSettings(opts);
  const log = opts.log ?? silentLog;
  const store = opts.store ?? (await openFleetStore(settings.dataDir, opts.storeUrl, (message) => log({ event: 'store-warning', message })));
  const deps: AppDeps = {
    settings,
    store,
    log,
    metrics: new ControllerMetrics(),
    alerts: new AlertNotifier({
      url: settings.alertWebhook,
      policy: { threshold: settings.alertThreshold, minAttempts: settings.alertMinAttempts },
      store,
      log,
      minTimeoutMs: opts.alertMinTimeoutMs,
    }),
    sessions: store.sessions,
    now: opts.now ?? (() => new Date()),
  };
  await prune(deps);
  const timer = setInterval(() => {
    prune(deps).catch((err: unknown) => log({ event: 'prune-failed', error: (err as Error).message }));
  }, PRUNE_EVERY_MS);
  timer.unref();

  const server = createServer(createApp(deps).callback());
  let address: AddressInfo;
  try {
    address = await listen(server, opts.port ?? 0, opts.host ?? '127.0.0.1');
  } catch (err) {
    clearInterval(timer);
    await store.close();
    throw err;
  }
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    host: address.address,
    port: address.port,
    store,
    close: () =>
      (closing ??= (async () => {
        clearInterval(timer);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        await closed;
        clearTimeout(cut);
        await deps.alerts.close();
        await store.close();
      })()),
  };
}
