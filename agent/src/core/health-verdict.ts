/**
 * Is a compose project healthy right now? A pure reading of one `ps` snapshot (DESIGN §4.3 step 5):
 * the caller polls and decides what to do with `pending`. `failed` is for states that waiting will
 * not cure, so a broken release is rolled back at once instead of at the end of its timeout.
 */
import type { ServiceStatus } from './compose-model.js';

export type HealthVerdict =
  | { kind: 'healthy' }
  /** `service` and `state` say what is still awaited ("health starting"), for the timeout message. */
  | { kind: 'pending'; why: string; service?: string; state?: string }
  | { kind: 'failed'; why: string; service: string; state: string };

type ContainerVerdict = { kind: 'ok' } | { kind: 'pending' | 'failed'; state: string };

/**
 * Every expected service has a container, and every container of the project is running and, where
 * it declares a healthcheck, healthy. The first failure wins over any pending service (worst wins);
 * `services` comes sorted from `ps`, so the verdict is deterministic.
 */
export function servicesVerdict(services: ServiceStatus[], expected: string[] = []): HealthVerdict {
  const judged = services.map((s) => ({ service: s.service, verdict: containerVerdict(s) }));
  for (const { service, verdict } of judged) {
    if (verdict.kind === 'failed') return { kind: 'failed', why: `service ${service} ${verdict.state}`, service, state: verdict.state };
  }
  const present = new Set(services.map((s) => s.service));
  // A missing container is pending, not failed: `up` may still be creating it, and the timeout bounds the wait.
  const missing = [...expected].sort().find((name) => !present.has(name));
  if (missing !== undefined) return { kind: 'pending', why: `service ${missing} has no container`, service: missing, state: 'no container' };
  if (services.length === 0) return { kind: 'pending', why: 'the project has no containers', state: 'no containers' };
  for (const { service, verdict } of judged) {
    if (verdict.kind === 'pending') return { kind: 'pending', why: `service ${service}: ${verdict.state}`, service, state: verdict.state };
  }
  return { kind: 'healthy' };
}

function containerVerdict(s: ServiceStatus): ContainerVerdict {
  switch (s.state) {
    case 'running':
      if (s.health === 'unhealthy') return { kind: 'failed', state: 'is unhealthy' };
      if (s.health === 'starting') return { kind: 'pending', state: 'health starting' };
      return { kind: 'ok' };
    case 'created':
      return { kind: 'pending', state: 'created, not started' };
    case 'restarting':
      // A restart after a crash is a crash loop; after a clean exit the restart policy may yet bring it up.
      return s.exitCode !== 0
        ? { kind: 'failed', state: `is restarting (last exit code ${s.exitCode})` }
        : { kind: 'pending', state: 'restarting (last exit code 0)' };
    case 'exited':
      // A service without a healthcheck that exited 0 is a one-shot job (a migration, a seed) that
      // did its work; a service with a healthcheck was meant to keep running.
      if (s.exitCode === 0 && s.health === 'none') return { kind: 'ok' };
      return { kind: 'failed', state: `exited with code ${s.exitCode}` };
    case 'dead':
      return { kind: 'failed', state: `is dead (exit code ${s.exitCode})` };
    // Neither resolves by waiting: someone paused it, or it is being removed.
    case 'paused':
      return { kind: 'failed', state: 'is paused' };
    case 'removing':
      return { kind: 'failed', state: 'is being removed' };
  }
}
