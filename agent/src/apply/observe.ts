import type { ComposeRuntime } from '../ports.js';
import type { AppLayout } from './app-layout.js';

/** Compose records the project directory (the release directory it was started from) on every container. */
const WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir';

/**
 * Read-only: whether the app's containers are all from `version`'s release directory, running,
 * and healthy where they declare a healthcheck. What Docker keeps is the one truth here: after a
 * failed rollback the state cannot say which version runs.
 */
export async function runsHealthy(runtime: ComposeRuntime, layout: AppLayout, version: string): Promise<boolean> {
  const containers = await runtime.ps(layout.project);
  const dir = layout.releaseDir(version);
  // Compose may record the directory through a resolved symlink: the tail names the version all the same.
  const fromVersion = (label: string | undefined): boolean => label === dir || (label?.endsWith(`/${layout.app}/releases/${version}`) ?? false);
  return (
    containers.length > 0 &&
    containers.every((c) => fromVersion(c.labels[WORKING_DIR_LABEL]) && c.state === 'running' && (c.health === 'healthy' || c.health === 'none'))
  );
}
