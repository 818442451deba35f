// DESIGN §4.7: agents/<version>/agent.yaml read from a real signed channel, fetched over git smart
// HTTP by the agent's own transport: the artifacts as published, the digest of the file's bytes,
// and a missing or invalid file refused naming the file and field.
import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { readAgentRelease } from '../../agent/src/channel/read-agent-release.js';
import { checkChannel } from '../../agent/src/node/cycle.js';
import { wireNode } from '../../agent/src/node/wiring.js';
import { DuckError } from '../../schemas/errors.js';
import type { Channel, ChannelHost } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { writeBasicChannel } from '../helpers/channel-fixtures.js';

const Agents = suite<{ host: ChannelHost }>('agent releases in the channel', {} as { host: ChannelHost });

Agents.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-agent-release-');
});

Agents.after(async (ctx) => {
  await ctx.host.close();
});

const X64 = { url: 'https://dl.example.com/duck/duck-0.2.0-linux-x64.tar.gz', sha256: 'a'.repeat(64), size: 48123456 };

/** Publishes the channel with `files` on top, and reads agent `version` from the commit the node accepted. */
async function publishAndRead(host: ChannelHost, files: Record<string, string>, version: string): Promise<{ commit: string; read: Promise<unknown> }> {
  const { ch, node } = await host.fresh();
  await writeBasicChannel(ch, [host.rootKey]);
  for (const [path, text] of Object.entries(files)) await ch.write(path, text);
  const commit = await commitAndAccept(ch, node, host);
  const parts = await wireNode({ configFile: node.configFile });
  return { commit, read: readAgentRelease(parts.transport.objects, commit, version) };
}

async function commitAndAccept(ch: Channel, node: AgentNode, host: ChannelHost): Promise<string> {
  const commit = await ch.commit('agent release', host.rootKey);
  await ch.publish();
  const accepted = await checkChannel({ node: await wireNode({ configFile: node.configFile }), log: () => undefined });
  assert.is(accepted.anchor.commit, commit);
  return commit;
}

async function refusal(read: Promise<unknown>): Promise<DuckError> {
  const err = await read.then(
    () => null,
    (e: unknown) => e,
  );
  assert.instance(err, DuckError);
  return err as DuckError;
}

Agents('reads agents/<version>/agent.yaml from the accepted commit, its digest the sha256 of its bytes', async (ctx) => {
  const text = stringify({ version: '0.2.0', notes: 'Agent releases in the channel.\n', artifacts: { 'linux-x64': X64 } });
  const { commit, read } = await publishAndRead(ctx.host, { 'agents/0.2.0/agent.yaml': text }, '0.2.0');
  assert.equal(await read, {
    version: '0.2.0',
    notes: 'Agent releases in the channel.\n',
    artifacts: { 'linux-x64': X64 },
    digest: createHash('sha256').update(text).digest('hex'),
    commit,
  });
});

Agents('a version without agent.yaml is refused naming the file it looked for', async (ctx) => {
  const { read } = await publishAndRead(ctx.host, {}, '0.3.0');
  const err = await refusal(read);
  assert.is(err.code, 'invalid');
  assert.match(err.message, /^agents\/0\.3\.0\/agent\.yaml: agent version 0\.3\.0 has no agents\/0\.3\.0\/agent\.yaml/);
});

Agents('an invalid agent.yaml is refused with its file, line and field', async (ctx) => {
  const text = 'version: 0.2.0\nartifacts:\n  linux-x64: { url: https://dl.example.com/d.tar.gz, sha256: nothex, size: 10 }\n';
  const { read } = await publishAndRead(ctx.host, { 'agents/0.2.0/agent.yaml': text }, '0.2.0');
  const err = await refusal(read);
  assert.is(err.code, 'invalid');
  assert.match(err.message, /^agents\/0\.2\.0\/agent\.yaml:3:\d+: \/artifacts\/linux-x64\/sha256: /);
});

Agents('an agent.yaml naming another version than its directory is refused at /version', async (ctx) => {
  const text = stringify({ version: '0.2.1', artifacts: { 'linux-x64': X64 } });
  const { read } = await publishAndRead(ctx.host, { 'agents/0.2.0/agent.yaml': text }, '0.2.0');
  const err = await refusal(read);
  assert.equal([err.code, err.data.file, err.data.field], ['invalid', 'agents/0.2.0/agent.yaml', '/version']);
});

Agents('a version that would climb out of agents/ is an unsafe path', async (ctx) => {
  const { read } = await publishAndRead(ctx.host, {}, '..');
  assert.is((await refusal(read)).code, 'unsafe-path');
});

Agents.run();
