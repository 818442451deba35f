import { join } from 'node:path';
import type { AgentConfig } from './agent-config.js';
import { loadAgentConfig, loadAgentKeys } from './agent-config.js';
import { openGitChannel } from './adapters/git-channel.js';
import type { StateStore } from './adapters/state-lowdb.js';
import { openStateStore } from './adapters/state-lowdb.js';
import type { AcceptedChannel } from './channel/accept-channel.js';
import { acceptChannel } from './channel/accept-channel.js';
import { parseCommitObject } from './channel/commit-object.js';
import { openCommitTree } from './channel/commit-tree.js';
import type { ChannelTransport } from './channel/git-objects.js';
import type { TrustedKey } from './channel/signature.js';

/** The one place where the agent's adapters are wired to its ports. */
export interface Agent {
  readonly config: AgentConfig;
  readonly state: StateStore;
  readonly transport: ChannelTransport;
  readonly agentKeys: readonly TrustedKey[];
  readonly clock: () => Date;
}

export async function openAgent(configFile: string, clock: () => Date = () => new Date()): Promise<Agent> {
  const config = await loadAgentConfig(configFile);
  const agentKeys = await loadAgentKeys(config);
  const state = await openStateStore(config.stateDir);
  const transport = openGitChannel({
    url: config.channel.url,
    branch: config.channel.branch,
    gitdir: join(config.stateDir, 'channel.git'),
    token: config.channel.token,
    maxFetchBytes: config.limits.maxFetchBytes,
  });
  return { config, state, transport, agentKeys, clock };
}

export function verifyChannel(agent: Agent): Promise<AcceptedChannel> {
  return acceptChannel({
    transport: agent.transport,
    state: agent.state,
    agentKeys: agent.agentKeys,
    group: agent.config.group,
    maxFileBytes: agent.config.limits.maxFileBytes,
    now: agent.clock(),
  });
}

/**
 * Whether the last accepted commit has `releases/<app>/<version>/`, read from the local clone
 * without a fetch; null when nothing was accepted yet (so a pin cannot be checked).
 */
export async function acceptedHasRelease(agent: Agent, app: string, version: string): Promise<boolean | null> {
  const anchor = agent.state.read().channel.anchor;
  if (!anchor || !(await agent.transport.objects.has(anchor.commit))) return null;
  const commit = parseCommitObject(await agent.transport.objects.readCommitRaw(anchor.commit), anchor.commit);
  const tree = openCommitTree(agent.transport.objects, anchor.commit, commit.tree, agent.config.limits.maxFileBytes);
  try {
    return (await tree.blobId(`releases/${app}/${version}/release.yaml`)) !== null;
  } catch {
    return false;
  }
}
