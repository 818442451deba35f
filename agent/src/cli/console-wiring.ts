import type { ConsoleServer } from '../console/server.js';
import type { ListenPlan } from '../console/listen.js';
import { noticesOnNode } from '../node/announcements.js';
import { perform } from '../node/session.js';
import type { NodeParts } from '../node/wiring.js';
import { capturedOutput } from './output.js';
import { upgradeConsoleRoutes } from './console-upgrade.js';

export interface ConsoleWiringOptions {
  /**
   * The node as its state file says now, for the reads. `duck run` serves the console from the
   * writer, whose state is the live one; `duck console` beside a daemon must read the file again,
   * or the pages would show the state this process started with.
   */
  readonly current?: () => Promise<NodeParts>;
}

/**
 * The console wired to this node: each route module gets the node's reads and acts it needs (the
 * console imports no node code). Imported here, on first use, so `duck run` without a console
 * never loads it.
 */
export async function serveConsole(node: NodeParts, plan: ListenPlan, opts: ConsoleWiringOptions = {}): Promise<ConsoleServer> {
  const current = opts.current ?? (async () => node);
  const [{ startConsole }, { statusRoutes }, { actRoutes }, { announcementRoutes }, { printStatus }, { serviceRoutes }, { appServices, followAppLogs }, { overlayRoutes }, overlayReads] = await Promise.all([
    import('../console/server.js'),
    import('../console/routes-status.js'),
    import('../console/routes-acts.js'),
    import('../console/routes-announcements.js'),
    import('./commands/status.js'),
    import('../console/routes-services.js'),
    import('../node/app-services.js'),
    import('../console/routes-overlay.js'),
    import('./console-overlay.js'),
  ]);
  return startConsole(plan, {
    stateDir: node.config.stateDir,
    routes: [
      ...statusRoutes({
        status: async () => {
          const captured = capturedOutput();
          await printStatus(await current(), captured.out);
          return captured.value();
        },
      }),
      ...actRoutes({ perform: (request, onProgress) => perform(node, request, { log: () => undefined, ...(onProgress ? { onProgress } : {}) }) }),
      ...announcementRoutes({
        inForce: async () => noticesOnNode(await current()),
        acknowledge: async (id) => {
          const result = await perform(node, { kind: 'acknowledge', id }, { log: () => undefined });
          return result.data!.acknowledged as { id: string; at: string };
        },
      }),
      ...serviceRoutes({ services: async () => appServices(await current()), follow: async (app, tail, sink) => followAppLogs(await current(), app, tail, sink) }),
      ...overlayRoutes(overlayReads.overlayDeps(node)),
      ...(await (await import('./console-records.js')).recordRoutes(node)),
      ...upgradeConsoleRoutes(current),
    ],
  });
}
