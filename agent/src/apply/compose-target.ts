import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
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

/** The label on every container the agent brings up: the accepted commit its change worked from. */
export const DEPLOYED_FROM_LABEL = 'dev.duck.commit';

/**
 * The target with one more compose file, written in the app's directory, that labels each
 * service's containers with `commit`. Docker keeps the label for as long as the containers exist,
 * so a node whose state directory was lost still knows which commit it runs (DESIGN §3: a lost
 * state never means "trust whatever is there").
 */
export async function labelledTarget(target: ComposeTarget, appDir: string, commit: string): Promise<ComposeTarget> {
  const services = await composeServices(target);
  const file = join(appDir, 'deployed-from.yaml');
  await mkdir(appDir, { recursive: true });
  const doc = { services: Object.fromEntries(services.map((name) => [name, { labels: { [DEPLOYED_FROM_LABEL]: commit } }])) };
  await writeFile(`${file}.tmp`, stringify(doc), { mode: 0o644 });
  await rename(`${file}.tmp`, file);
  return { ...target, files: [...target.files, file] };
}
