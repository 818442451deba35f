import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import type { Agent } from '../agent.js';
import { openAgent } from '../agent.js';
import { configPath } from '../agent-config.js';
import { createComposeCli, detectCompose } from '../adapters/compose-cli.js';
import type { InstanceLock } from '../adapters/instance-lock.js';
import { acquireInstanceLock } from '../adapters/instance-lock.js';
import { loadOverlay } from '../adapters/overlay-file.js';
import type { AppLayout } from '../apply/app-layout.js';
import { appLayout } from '../apply/app-layout.js';
import { composeTarget } from '../apply/compose-target.js';
import { DuckError } from '../core/errors.js';
import type { ComposeRuntime, ComposeTarget } from '../ports.js';

/** What the per-app operator commands (start, stop, restart, ps, logs) act on. */
export interface AppHandle {
  readonly agent: Agent;
  readonly app: string;
  readonly version: string;
  readonly layout: AppLayout;
  readonly target: ComposeTarget;
  readonly runtime: ComposeRuntime;
  readonly lock: InstanceLock | null;
}

/** Mutating commands take the instance lock, so they never race `duck run` over the state file. */
export async function openApp(config: string | undefined, app: string, opts: { mutate: boolean }): Promise<AppHandle> {
  const agent = await openAgent(configPath(config));
  const installed = agent.state.read().apps[app];
  if (!installed) {
    const known = Object.keys(agent.state.read().apps).sort().join(', ') || 'none';
    throw new DuckError('usage', `no app "${app}" is installed on this node (installed: ${known})`);
  }
  const lock = opts.mutate ? await acquireInstanceLock(agent.config.stateDir, `duck ${app}`) : null;
  const overlay = await loadOverlay(agent.config.overlay);
  const layout = appLayout(agent.config.apply.appsDir, app);
  const target = composeTarget(layout, installed.version, overlay.compose?.[app], dirname(agent.config.overlay));
  return { agent, app, version: installed.version, layout, target, runtime: createComposeCli(await detectCompose()), lock };
}

export async function recordOperatorAct(handle: AppHandle, outcome: 'stopped' | 'started', reason: string, stopped: boolean): Promise<void> {
  const { agent, app, version } = handle;
  await agent.state.update((s) => {
    s.apps[app] = { ...s.apps[app]!, stoppedByOperator: stopped };
    s.history.push({ id: randomUUID(), at: agent.clock().toISOString(), app, from: version, to: version, outcome, reason });
  });
}
