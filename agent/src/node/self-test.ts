// `duck self-test` (DESIGN §4.7): what the updater runs in a new build before switching to it. The
// build starts, reads the config and the state the running agent keeps, and verifies the accepted
// commit again from the local clone — its signatures from the root, its group and releases — with
// no network and no write: the running agent is still the state's writer.
import { DuckError, toDuckError } from '../../../schemas/errors.js';
import { acceptChain } from '../channel/accept-chain.js';
import { readChannelContent } from '../channel/read-release.js';
import { runningBuild } from './agent-decision.js';
import type { NodeParts } from './wiring.js';

export interface SelfTestResult {
  readonly version: string;
  /** The accepted commit verified, or null when the node has none yet. */
  readonly commit: string | null;
  readonly checks: readonly string[];
}

export async function selfTest(node: NodeParts): Promise<SelfTestResult> {
  const checks = [`config ${node.config.file}`];
  const state = node.state.read();
  checks.push(`state ${node.state.file} (schema ${state.schemaVersion})`);
  const keys = await node.agentKeys();
  checks.push(`${keys.length} root key(s)`);
  const anchor = state.channel.anchor;
  if (anchor === null) return { version: runningBuild().version, commit: null, checks: [...checks, 'no accepted commit yet'] };
  try {
    const chain = await acceptChain({ objects: node.transport.objects, tip: anchor.commit, anchor: null, agentKeys: keys, now: node.clock(), limits: node.config.limits, verified: () => undefined });
    if (chain.accepted.commit !== anchor.commit) {
      throw new DuckError('internal', `the clone's history accepts ${chain.accepted.commit.slice(0, 12)}, not the accepted ${anchor.commit.slice(0, 12)}`, { commit: anchor.commit });
    }
    await readChannelContent(chain.accepted.tree, node.config.group);
  } catch (err) {
    const e = toDuckError(err);
    throw new DuckError(e.code, `self-test: the accepted commit ${anchor.commit.slice(0, 12)} does not verify from the clone: ${e.message}`, e.data);
  }
  checks.push(`accepted commit ${anchor.commit} verified from the clone`);
  return { version: runningBuild().version, commit: anchor.commit, checks };
}
