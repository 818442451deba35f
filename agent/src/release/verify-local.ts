// `duck release verify`: the agent's acceptance run on the publisher's own clone, for CI on the
// protected branch. The same first-parent walk, policy and release reading a node does (DESIGN §3),
// from the first commit, trusting the given root keys — by default the signers the channel's first
// commit lists, as a node installed with those keys would.
import { readFile } from 'node:fs/promises';
import { DEFAULT_LIMITS } from '../core/limits.js';
import type { ChainResult } from '../channel/accept-chain.js';
import { acceptChain } from '../channel/accept-chain.js';
import { parseCommitObject } from '../channel/commit-object.js';
import type { ChannelContent } from '../channel/read-release.js';
import { readChannelContent } from '../channel/read-release.js';
import type { TrustedKey } from '../channel/signature.js';
import { readTrustedKey } from '../channel/signature.js';
import { readPolicy } from '../channel/trust-policy.js';
import { DuckError } from '../../../schemas/errors.js';
import type { LocalRepo } from './local-repo.js';

export interface LocalVerification {
  readonly tip: string;
  readonly chain: ChainResult;
  readonly rootKeys: readonly TrustedKey[];
  /** Every group's content at the accepted commit, each release's files checked by sha256. */
  readonly groups: readonly ChannelContent[];
}

export async function verifyLocal(repo: LocalRepo, opts: { ref: string; trustKeyFiles: readonly string[]; now: Date }): Promise<LocalVerification> {
  const tip = await repo.resolveCommit(opts.ref);
  const rootKeys = opts.trustKeyFiles.length > 0 ? await keysFromFiles(opts.trustKeyFiles) : await firstCommitSigners(repo, tip);
  const chain = await acceptChain({
    objects: repo.objects,
    tip,
    anchor: null,
    agentKeys: rootKeys,
    now: opts.now,
    limits: DEFAULT_LIMITS,
    verified: () => undefined,
  });
  const tree = chain.accepted.tree;
  const groupNames = (await tree.listFiles('groups')).map((f) => f.path).filter((p) => /^[^/]+\.yaml$/.test(p)).map((p) => p.slice(0, -'.yaml'.length));
  const groups: ChannelContent[] = [];
  for (const group of groupNames.sort()) groups.push(await readChannelContent(tree, group));
  return { tip, chain, rootKeys, groups };
}

async function keysFromFiles(files: readonly string[]): Promise<TrustedKey[]> {
  const keys: TrustedKey[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new DuckError('config', `${file}: cannot read the trusted key (${err.code ?? err.message})`, { file });
    });
    keys.push(await readTrustedKey(text, file, file, 'agent'));
  }
  return keys;
}

async function firstCommitSigners(repo: LocalRepo, tip: string): Promise<TrustedKey[]> {
  let oid = tip;
  for (;;) {
    const parent = parseCommitObject(await repo.objects.readCommitRaw(oid), oid).parents[0];
    if (parent === undefined) break;
    oid = parent;
  }
  const policy = await readPolicy(await repo.treeAt(oid), []);
  if (policy.keys.length === 0) {
    throw new DuckError('config', `the first commit ${oid.slice(0, 12)} lists no signers in channel.yaml: name the root keys with --trust-key`, { commit: oid });
  }
  return policy.keys.map((k) => ({ ...k, source: 'agent' as const, scope: 'all' as const }));
}
