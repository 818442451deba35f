import { configPath } from '../node/config.js';
import type { NodeParts } from '../node/wiring.js';
import { faultsFromEnvironment, wireNode } from '../node/wiring.js';

/** The node this command works on: --config, else DUCK_CONFIG, else /etc/duck/agent.yaml. */
export function openNode(configFlag: string | undefined): Promise<NodeParts> {
  return wireNode({ configFile: configPath(configFlag, process.env), faults: faultsFromEnvironment(process.env) });
}
