import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import type { ComposeOverride } from '../../../schemas/index.js';
import type { ComposeTarget } from '../ports.js';
import type { ApplyEnv } from './apply-env.js';
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

/** The target for one version of an app as the agent runs it, with the overlay's overrides for the app. */
export function appTarget(env: Pick<ApplyEnv, 'overlay' | 'overlayDir'>, layout: AppLayout, version: string): ComposeTarget {
  return composeTarget(layout, version, env.overlay.compose?.[layout.app], env.overlayDir);
}

/**
 * The services `compose up` starts (those without `profiles`), across the target's files: each
 * must have a container before the app counts as healthy, so a service that was never created
 * cannot pass unnoticed. An unreadable override is left to compose to report.
 */
export async function composeServices(target: ComposeTarget): Promise<string[]> {
  const names = new Set<string>();
  for (const file of target.files) {
    const text = await readFile(isAbsolute(file) ? file : resolve(target.cwd, file), 'utf8').catch(() => null);
    if (text === null) continue;
    const doc = parse(text) as { services?: Record<string, { profiles?: unknown } | null> } | null;
    for (const [name, service] of Object.entries(doc?.services ?? {})) {
      if (!service?.profiles) names.add(name);
    }
  }
  return [...names].sort();
}
