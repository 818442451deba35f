// The two-person rule's counting (channel/threshold-rules.ts, channel/thresholds.ts) over fake
// trees and a fake history: pure logic; the real walk is in test/integration/channel-thresholds.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChannelFile } from '../../schemas/index.js';
import { DuckError } from '../../schemas/errors.js';
import type { CommitTree } from '../../agent/src/channel/commit-tree.js';
import type { TrustedKey } from '../../agent/src/channel/signature.js';
import { approvedCommit, tallyRule, thresholdRulesOf, unmetMessage, watchedPaths } from '../../agent/src/channel/threshold-rules.js';
import type { CommitHistory, PolicyPoint } from '../../agent/src/channel/thresholds.js';
import { tallyThresholds } from '../../agent/src/channel/thresholds.js';
import type { TrustPolicy } from '../../agent/src/channel/trust-policy.js';

const Rules = suite('threshold rules');

const channel = (thresholds: ChannelFile['thresholds'], names = ['alice', 'bob', 'carol']): ChannelFile => ({
  version: 1,
  signers: names.map((name) => ({ name, key: `keys/${name}.asc` })),
  ...(thresholds ? { thresholds } : {}),
});

function invalidField(read: () => unknown): string {
  try {
    read();
  } catch (err) {
    assert.ok(err instanceof DuckError && err.code === 'invalid', String(err));
    assert.is((err as DuckError).data.file, 'channel.yaml');
    return String((err as DuckError).data.field);
  }
  throw new Error('expected invalid');
}

Rules('spells out a rule without signers as every signer of the file', () => {
  const [rule] = thresholdRulesOf(channel([{ paths: ['groups/production.yaml'], count: 2 }]));
  assert.equal(rule?.signers, ['alice', 'bob', 'carol']);
});

Rules('refuses an unknown signer name, a name listed twice, a count above the set and twice the same signer name, naming the field', () => {
  assert.is(invalidField(() => thresholdRulesOf(channel([{ paths: ['a'], count: 1, signers: ['alice', 'mallory'] }]))), '/thresholds/0/signers/1');
  assert.is(invalidField(() => thresholdRulesOf(channel([{ paths: ['a'], count: 1, signers: ['bob', 'bob'] }]))), '/thresholds/0/signers/1');
  assert.is(invalidField(() => thresholdRulesOf(channel([{ paths: ['a'], count: 1 }, { paths: ['b'], count: 3, signers: ['alice', 'bob'] }]))), '/thresholds/1/count');
  assert.is(invalidField(() => thresholdRulesOf(channel(undefined, ['alice', 'bob', 'alice']))), '/signers/2/name');
});

Rules('the rule on channel.yaml watches the key files too', () => {
  const [rule] = thresholdRulesOf(channel([{ paths: ['channel.yaml', 'releases/'], count: 1 }]));
  assert.equal(watchedPaths(rule!, ['keys/a.asc', 'keys/b.asc']), ['channel.yaml', 'keys/a.asc', 'keys/b.asc', 'releases/']);
});

Rules('reads an approval only from a first line `approve <40-hex id>`', () => {
  const id = 'c'.repeat(40);
  assert.is(approvedCommit(`approve ${id}\n`), id);
  assert.is(approvedCommit(`approve ${id}\r\n\r\nlooks good`), id);
  assert.is(approvedCommit(`approve ${id.slice(0, 12)}\n`), null);
  assert.is(approvedCommit(`Revert "approve ${id}"\n`), null);
});

Rules('counts each fingerprint once and only the keys of the rule', () => {
  const [rule] = thresholdRulesOf(channel([{ paths: ['a'], count: 2, signers: ['alice', 'bob'] }]));
  const keys = new Map([['FA', 'alice'], ['FB', 'bob']]);
  assert.equal(tallyRule(rule!, keys, ['FA', 'FA', 'FC']), { rule: rule!, counted: ['alice'], missing: 1 });
  assert.equal(tallyRule(rule!, keys, ['FB', 'FA']).counted, ['alice', 'bob']);
  assert.match(unmetMessage('d'.repeat(40), tallyRule(rule!, keys, ['FA'])), /a needs 2 signatures of alice, bob \(channel\.yaml \/thresholds\/0\); signed by alice: 1 missing/);
});

Rules.run();

// A fake channel: each commit a tree (path -> blob id), parents, a message and who signed it.
interface FakeCommit {
  readonly files: Record<string, string>;
  readonly parents: string[];
  readonly message?: string;
  readonly by?: string;
}

const Count = suite('threshold counting');

const key = (name: string, source: TrustedKey['source'] = 'channel'): TrustedKey => ({ kind: 'openpgp', fingerprint: `FP-${name}`, name, source, scope: 'all', key: undefined as never });

function fakeTree(files: Record<string, string>): CommitTree {
  return {
    commit: 'x',
    limits: { maxFileBytes: 1, maxReleaseFiles: 1 },
    blobId: async (path) => files[path] ?? null,
    readFile: async () => new Uint8Array(),
    readYaml: async () => ({}) as never,
    listFiles: async (dir) => Object.entries(files).filter(([p]) => p.startsWith(`${dir}/`)).map(([path, oid]) => ({ path: path.slice(dir.length + 1), oid })),
  };
}

function fakeHistory(commits: Record<string, FakeCommit>, keys: readonly TrustedKey[]): CommitHistory {
  return {
    read: async (oid) => ({ parents: commits[oid]!.parents, message: commits[oid]!.message ?? 'change\n', tree: fakeTree(commits[oid]!.files) }),
    signer: async (oid, policy) => policy.keys.find((k) => k.name === commits[oid]!.by && keys.includes(k)) ?? null,
  };
}

const PROD = 'groups/production.yaml';
const keys = [key('root', 'agent'), key('alice'), key('bob'), key('carol'), key('dave')];
const policy: TrustPolicy = {
  keys,
  channelVersion: 1,
  identity: 'p1',
  channel: { ...channel([{ paths: [PROD], count: 2, signers: ['alice', 'bob', 'carol'] }], ['alice', 'bob', 'carol', 'dave']) },
};

async function countAt(commits: Record<string, FakeCommit>, tip: string, signer: string | null) {
  const point: PolicyPoint = { commit: 'A', tree: fakeTree(commits.A!.files), policy };
  const tallies = await tallyThresholds({
    commit: tip,
    tree: fakeTree(commits[tip]!.files),
    signer: keys.find((k) => k.name === signer) ?? null,
    point,
    next: null,
    history: fakeHistory(commits, keys),
  });
  return tallies.map((t) => ({ counted: t.counted, missing: t.missing }));
}

const A: FakeCommit = { files: { [PROD]: 'v1', 'groups/staging.yaml': 's1' }, parents: [] };

Count('a change the rule does not guard counts nothing', async () => {
  assert.equal(await countAt({ A, C: { files: { ...A.files, 'groups/staging.yaml': 's2' }, parents: ['A'] } }, 'C', 'alice'), []);
});

Count("counts the author and an approval on top; the agent's root key never counts", async () => {
  const commits = {
    A,
    X: { files: { [PROD]: 'v2' }, parents: ['A'], by: 'alice' },
    C: { files: { [PROD]: 'v2' }, parents: ['X'], message: `approve ${'e'.repeat(40)}\n`, by: 'bob' },
  };
  assert.equal(await countAt(commits, 'C', 'bob'), [{ counted: ['alice', 'bob'], missing: 0 }]);
  assert.equal(await countAt({ ...commits, C: { ...commits.C, by: 'root' } }, 'C', 'root'), [{ counted: ['alice'], missing: 1 }]);
});

Count('a commit that neither wrote the content nor approves it does not count, nor one holding other content', async () => {
  const commits = {
    A,
    X: { files: { [PROD]: 'v2' }, parents: ['A'], by: 'alice' },
    Y: { files: { [PROD]: 'v2', 'groups/staging.yaml': 's2' }, parents: ['X'], by: 'carol' },
    Z: { files: { [PROD]: 'v3' }, parents: ['Y'], message: `approve ${'f'.repeat(40)}\n`, by: 'bob' },
    C: { files: { [PROD]: 'v2' }, parents: ['Z'], by: 'dave' },
  };
  assert.equal(await countAt(commits, 'C', 'dave'), [{ counted: ['alice'], missing: 1 }]);
});

Count('follows every parent: a merged branch carries its author and approval; commits before the point do not count', async () => {
  const commits = {
    O: { files: { [PROD]: 'v2' }, parents: [], by: 'carol' },
    A: { ...A, parents: ['O'] },
    X: { files: { [PROD]: 'v2' }, parents: ['A'], by: 'alice' },
    P: { files: { [PROD]: 'v2' }, parents: ['X'], message: `approve ${'e'.repeat(40)}\n`, by: 'bob' },
    M: { files: { [PROD]: 'v2' }, parents: ['A', 'P'], by: 'dave' },
  };
  assert.equal(await countAt(commits, 'M', 'dave'), [{ counted: ['alice', 'bob'], missing: 0 }]);
});

Count('a commit before the point, reached again through a merge, does not count', async () => {
  const commits = {
    O: { files: { [PROD]: 'v2' }, parents: [], by: 'carol' },
    A: { ...A, parents: ['O'] },
    X: { files: { [PROD]: 'v2' }, parents: ['A'], by: 'alice' },
    M: { files: { [PROD]: 'v2' }, parents: ['X', 'O'], by: 'dave' },
  };
  assert.equal(await countAt(commits, 'M', 'dave'), [{ counted: ['alice'], missing: 1 }]);
});

Count.run();
