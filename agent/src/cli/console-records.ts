import type { ConsoleRoute } from '../console/routes.js';
import { buildNodeBundle, stateArchive, uploadBundle } from '../node/diagnostics.js';
import { listBackups, partialBackups, writtenState } from '../node/readings.js';
import { perform } from '../node/session.js';
import type { NodeParts } from '../node/wiring.js';
import { openNode } from './node-handle.js';

/**
 * The console's record pages wired to this node — backups, history, diagnostics — with the same
 * reads `duck backups`, `duck history` and `duck diagnostics` make. Imported with the console only.
 */
export async function recordRoutes(node: NodeParts): Promise<ConsoleRoute[]> {
  const [{ backupRoutes }, { historyRoutes }, { diagnosticsRoutes }] = await Promise.all([
    import('../console/routes-backups.js'),
    import('../console/routes-history.js'),
    import('../console/routes-diagnostics.js'),
  ]);
  return [
    ...backupRoutes({
      backups: async () => {
        const [{ backups, broken }, partial] = await Promise.all([listBackups(node), partialBackups(node)]);
        return {
          dir: node.config.apply.backupsDir,
          apps: Object.keys((await writtenState(node)).apps),
          backups: backups.map((b) => ({ id: b.id, app: b.app, version: b.version, createdAt: b.createdAt, bytes: b.bytes, reason: b.reason })),
          broken,
          partial: { count: partial.length, bytes: partial.reduce((sum, p) => sum + p.bytes, 0) },
        };
      },
    }),
    ...historyRoutes({ history: async () => (await writtenState(node)).history }),
    ...diagnosticsRoutes({
      controller: node.config.controller?.url ?? null,
      build: () => buildNodeBundle(node, stateArchive(node)),
      upload: (archive) =>
        uploadBundle(node, archive, async () => {
          // Enrolling is the writer's (the daemon's when it runs); the state it wrote is read afresh.
          await perform(node, { kind: 'enroll' }, { log: () => undefined });
          return openNode(node.config.file);
        }),
    }),
  ];
}

