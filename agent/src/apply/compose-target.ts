import { isAbsolute, resolve } from 'node:path';
import type { ComposeOverride } from '../../../schemas/index.js';
import type { ComposeTarget } from '../ports.js';
import type { AppLayout } from './app-layout.js';
import { composeFileIn } from './app-layout.js';

/**
 * The compose invocation for one version of an app: the release's compose file, then the
 * overlay's files on top; DUCK_* variables tell the compose file where its data and lock live.
 */
export function composeTarget(layout: AppLayout, version: string, override: ComposeOverride | undefined, overlayDir: string): ComposeTarget {
  const cwd = layout.releaseDir(version);
  const extra = (override?.files ?? []).map((f) => (isAbsolute(f) ? f : resolve(overlayDir, f)));
  return {
    cwd,
    files: [composeFileIn(cwd), ...extra],
    env: {
      DUCK_APP: layout.app,
      DUCK_VERSION: version,
      DUCK_DATA_DIR: layout.dataDir,
      DUCK_LOCK_DIR: layout.lockDir,
      ...(override?.env ?? {}),
    },
  };
}
