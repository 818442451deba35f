import { dirname } from 'node:path';
import type { Agent } from '../agent.js';
import { openAgent } from '../agent.js';
import { configPath } from '../agent-config.js';
import { createComposeCli, detectCompose } from '../adapters/compose-cli.js';
import { loadOverlay } from '../adapters/overlay-file.js';
import type { AppLayout } from '../apply/app-layout.js';
import { appLayout } from '../apply/app-layout.js';
import { composeTarget } from '../apply/compose-target.js';
import { installedOrThrow } from '../operator-acts.js';
import type { ComposeRuntime, ComposeTarget } from '../ports.js';

/** What the reading per-app commands (ps, logs) look at; changes go through operator requests. */
export interface AppHandle {
  readonly agent: Agent;
  readonly app: string;
  readonly version: string;
  readonly layout: AppLayout;
  readonly target: ComposeTarget;
  readonly runtime: ComposeRuntime;
}

export async function openApp(config: string | undefined, app: string): Promise<AppHandle> {
  const agent = await openAgent(configPath(config));
  const installed = installedOrThrow(agent, app);
  const overlay = await loadOverlay(agent.config.overlay);
  const layout = appLayout(agent.config.apply.appsDir, app);
  const target = composeTarget(layout, installed.version, overlay.compose?.[app], dirname(agent.config.overlay));
  return { agent, app, version: installed.version, layout, target, runtime: createComposeCli(await detectCompose()) };
}
