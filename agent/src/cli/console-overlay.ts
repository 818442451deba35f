import { formatDuration } from '../core/duration.js';
import type { OverlayDeps } from '../console/routes-overlay.js';
import { loadAgentKeys } from '../node/config.js';
import { nodeZone } from '../node/decisions.js';
import { editOverlayFile, readOverlayFile } from '../node/overlay.js';
import { requireInAcceptedCommit } from '../node/readings.js';
import type { NodeParts } from '../node/wiring.js';

/**
 * The overlay routes' reads and edits on this node: the same file functions `duck pin`, `hold` and
 * `schedule` use, and agent.yaml's settings the page shows but does not edit.
 */
export function overlayDeps(node: NodeParts): OverlayDeps {
  const { config } = node;
  return {
    file: config.overlay,
    read: () => readOverlayFile(config.overlay),
    edit: (edit) => editOverlayFile(config.overlay, edit),
    requireInChannel: async (target, act) => void (await requireInAcceptedCommit(node, target, { act, force: false })),
    agentSettings: async () => ({
      file: config.file,
      channel: { url: config.channel.url, branch: config.channel.branch, interval: formatDuration(config.channel.intervalMs) },
      trustKeys: (await loadAgentKeys(config)).map((k) => ({ name: k.name, fingerprint: k.fingerprint })),
      backupsDir: config.apply.backupsDir,
    }),
    zone: nodeZone,
    clock: node.clock,
  };
}
