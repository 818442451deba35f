// A poll whose tip has not moved: the accepted commit's content is kept by the process, so nothing
// is read from the clone again; a new tip is walked and checked as ever.
import * as openpgp from 'openpgp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import type { AcceptInput } from '../../agent/src/channel/accept-channel.js';
import { acceptTip } from '../../agent/src/channel/accept-channel.js';
import { fingerprintOf, readPublicKey } from '../../agent/src/channel/signature.js';
import { makeOpenpgpKey } from '../../examples/harness/keys.js';
import { MemoryObjects } from '../helpers/memory-objects.js';
import { sha256 } from '../helpers/channel-fixtures.js';

async function signedCommit(repo: MemoryObjects, tree: string, parent: string | null, key: openpgp.PrivateKey, message: string): Promise<string> {
  const when = `${Math.floor(Date.now() / 1000) - 60} +0000`;
  const header = [`tree ${tree}`, ...(parent ? [`parent ${parent}`] : []), `author Bot <bot@example.test> ${when}`, `committer Bot <bot@example.test> ${when}`].map((l) => `${l}\n`).join('');
  const body = `\n${message}\n`;
  const signature = await openpgp.sign({ message: await openpgp.createMessage({ binary: Buffer.from(header + body) }), signingKeys: key, detached: true, format: 'armored' });
  const gpgsig = `gpgsig ${signature.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n').join('\n ')}\n`;
  return repo.write('commit', Buffer.from(header + gpgsig + body));
}

test('an unchanged tip reads nothing from the clone again; a new tip is walked and read', async () => {
  const testKey = await makeOpenpgpKey('release-bot');
  const privateKey = await openpgp.readPrivateKey({ armoredKey: testKey.armoredPrivateKey });
  const publicKey = await readPublicKey(testKey.armoredPublicKey, 'keys/release-bot.asc');
  const repo = new MemoryObjects();
  const files = (shop: string): Record<string, string> => ({
    'channel.yaml': stringify({ version: 1, signers: [{ name: 'release-bot', key: 'keys/release-bot.asc' }] }),
    'keys/release-bot.asc': testKey.armoredPublicKey,
    'groups/production.yaml': stringify({ apps: { shop } }),
    [`releases/shop/${shop}/compose.yaml`]: `v ${shop}`,
    [`releases/shop/${shop}/release.yaml`]: stringify({ app: 'shop', version: shop, files: { 'compose.yaml': sha256(`v ${shop}`) } }),
  });
  const first = await signedCommit(repo, repo.files(files('1.0.0')), null, privateKey, 'shop 1.0.0');
  const transport = { remoteTip: async () => first, localTip: async () => first, pointer: null, fetch: async () => first, reset: async () => undefined, objects: repo.port };
  const input: AcceptInput = {
    transport,
    agentKeys: async () => [{ kind: 'openpgp', fingerprint: fingerprintOf(publicKey), name: 'release-bot', source: 'agent', scope: 'all', key: publicKey }],
    group: 'production',
    limits: { maxFileBytes: 1024 * 1024, maxReleaseFiles: 1000 },
    now: new Date(),
    previous: null,
    newestTimeSeen: null,
    verified: () => undefined,
  };
  const accepted = await acceptTip(input, { tip: first, fetched: true });
  assert.is(accepted.anchor.commit, first);

  const before = { ...repo.reads };
  const again = await acceptTip({ ...input, previous: accepted.anchor }, { tip: first, fetched: false });
  assert.equal({ ...repo.reads, size: 0 }, { ...before, size: 0 });
  assert.is(again.changed, false);
  assert.equal(again.content, accepted.content);

  const second = await signedCommit(repo, repo.files(files('1.1.0')), first, privateKey, 'shop 1.1.0');
  const moved = await acceptTip({ ...input, previous: accepted.anchor }, { tip: second, fetched: true });
  assert.is(moved.anchor.commit, second);
  assert.is(moved.walked, 1);
  assert.is(moved.content.releases.shop?.version, '1.1.0');
});

test.run();
