import { followComposeLogs } from '../adapters/compose-logs.js';
import type { LogFollow, LogSink } from '../adapters/compose-logs.js';
import { appLayout } from '../apply/app-layout.js';
import { DuckError } from '../../../schemas/errors.js';
import { appHandle } from './readings.js';
import type { NodeParts } from './wiring.js';

/**
 * The console's services and log pages: per installed app its containers as Docker sees them
 * (`duck ps`'s reading), and its logs followed live (`duck logs`, followed). Reads only: starting
 * and stopping are operator acts through the writer.
 */

export interface AppContainer {
  readonly service: string;
  readonly container: string;
  readonly image: string;
  readonly state: string;
  readonly health: string;
  readonly exitCode: number;
}

export interface AppServices {
  readonly app: string;
  readonly version: string;
  readonly project: string;
  /** `duck stop` holds it stopped: the agent does not start it by itself. */
  readonly stoppedByOperator: boolean;
  /** No longer in the group: stopped and kept until `duck purge`. */
  readonly orphaned: boolean;
  readonly containers: AppContainer[];
  /** Docker could not be read for this app (its containers are then unknown, not none). */
  readonly error: string | null;
}

/** Every installed app, in name order, with its containers; an engine that fails one app fails only its row. */
export async function appServices(node: NodeParts): Promise<AppServices[]> {
  const apps = node.state.read().apps;
  const runtime = await node.runtime();
  return Promise.all(
    Object.keys(apps)
      .sort()
      .map(async (app): Promise<AppServices> => {
        const installed = apps[app]!;
        const project = appLayout(node.config.apply.appsDir, app).project;
        const base = { app, version: installed.version, project, stoppedByOperator: installed.stoppedByOperator === true, orphaned: installed.orphaned === true };
        try {
          const rows = await runtime.ps(project);
          return { ...base, containers: rows.map((s) => ({ service: s.service, container: s.container, image: s.image, state: s.state, health: s.health, exitCode: s.exitCode })), error: null };
        } catch (err) {
          return { ...base, containers: [], error: (err as Error).message };
        }
      }),
  );
}

/**
 * Follows an installed app's logs from its last `tail` lines per container until `stop()`.
 * @throws DuckError 'not-found' for an app this node does not run (the console answers 404)
 */
export async function followAppLogs(node: NodeParts, app: string, tail: number, sink: LogSink): Promise<LogFollow> {
  if (!Object.hasOwn(node.state.read().apps, app)) throw new DuckError('not-found', `no app "${app}" runs on this node`, { app });
  const handle = await appHandle(node, app);
  return followComposeLogs(await handle.runtime.version(), handle.layout.project, handle.target, tail, sink);
}
