import type { ConsoleServer } from '../console/server.js';
import type { ListenPlan } from '../console/listen.js';
import { noticesOnNode } from '../node/announcements.js';
import { perform } from '../node/session.js';
import type { NodeParts } from '../node/wiring.js';
import { capturedOutput } from './output.js';
import { upgradeConsoleRoutes } from './console-upgrade.js';

/**
 * The console wired to this node: each route module gets the node's reads and acts it needs (the
 * console imports no node code). Imported here, on first use, so `duck run` without a console
 * never loads it.
 */
export async function serveConsole(node: NodeParts, plan: ListenPlan): Promise<ConsoleServer> {
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
          await printStatus(node, captured.out);
          return captured.value();
        },
      }),
      ...actRoutes({ perform: (request, onProgress) => perform(node, request, { log: () => undefined, ...(onProgress ? { onProgress } : {}) }) }),
      ...announcementRoutes({
        inForce: () => noticesOnNode(node),
        acknowledge: async (id) => {
          const result = await perform(node, { kind: 'acknowledge', id }, { log: () => undefined });
          return result.data!.acknowledged as { id: string; at: string };
        },
      }),
      ...serviceRoutes({ services: () => appServices(node), follow: (app, tail, sink) => followAppLogs(node, app, tail, sink) }),
      ...overlayRoutes(overlayReads.overlayDeps(node)),
      ...(await (await import('./console-records.js')).recordRoutes(node)),
      ...upgradeConsoleRoutes(node),
    ],
  });
}
