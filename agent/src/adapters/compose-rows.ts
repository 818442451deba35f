/**
 * Which of a project's containers are compose's service containers, in one order: both readings of
 * the engine (`docker inspect` through the CLI, the Engine API's list) go through here, so `ps` and
 * the engine start see the same rows.
 */
import type { ServiceStatus } from '../ports.js';

export const SERVICE_LABEL = 'com.docker.compose.service';
const ONEOFF_LABEL = 'com.docker.compose.oneoff';

/** Compose service containers only (no `run` one-offs, nothing unlabelled), sorted by service, then name. */
export function serviceRows(rows: readonly ServiceStatus[]): ServiceStatus[] {
  return rows
    .filter((c) => c.labels[SERVICE_LABEL] !== undefined && c.labels[ONEOFF_LABEL] !== 'True')
    .sort((a, b) => a.service.localeCompare(b.service) || a.container.localeCompare(b.container));
}
