// The publisher's side of the agent's own builds (DESIGN §4.7): `duck release agent add` writes
// agents/<version>/agent.yaml from real tarball files, `agent set` asks a group for a version with
// its comments kept, and lint checks both; what is signed is read back by the agent's own reader.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readAgentRelease } from '../../agent/src/channel/read-agent-release.js';
import { openLocalRepo } from '../../agent/src/release/local-repo.js';
import type { OpenpgpTestKey } from '../../examples/harness/keys.js';
import { makeOpenpgpKey } from '../../examples/harness/keys.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { agentAccepts, duckCli, writeKeyFile } from '../helpers/release-cli.js';

interface Ctx {
  root: string;
  key: OpenpgpTestKey;
  keyFile: string;
  count: number;
}

const Agent = suite<Ctx>('duck release agent', {} as Ctx);

Agent.before(async (ctx) => {
  ctx.root = await makeTempDir('duck-release-agent-');
  ctx.key = await makeOpenpgpKey('release-bot');
  ctx.keyFile = await writeKeyFile(ctx.root, ctx.key);
  ctx.count = 0;
});
Agent.after(async (ctx) => removeTempDir(ctx.root));

async function newChannel(ctx: Ctx): Promise<string> {
  const dir = join(ctx.root, `channel-${++ctx.count}`);
  const r = await duckCli(ctx.root, ['release', 'init', dir, '--key', ctx.keyFile]);
  assert.is(r.code, 0, r.stderr);
  return dir;
}

/** A stand-in build tarball of `bytes` random bytes, named as npm run build:artifact names it. */
async function tarball(ctx: Ctx, name: string, bytes: number): Promise<{ path: string; sha256: string; size: number }> {
  const dir = join(ctx.root, `builds-${++ctx.count}`);
  await mkdir(dir, { recursive: true });
  const content = Buffer.from(Array.from({ length: bytes }, (_, i) => (i * 7 + ctx.count) % 256));
  const path = join(dir, name);
  await writeFile(path, content);
  return { path, sha256: createHash('sha256').update(content).digest('hex'), size: bytes };
}

async function lint(dir: string): Promise<{ code: number; lines: string[] }> {
  const r = await duckCli(dir, ['release', 'lint']);
  return { code: r.code, lines: r.stdout.split('\n').filter((l) => /^\S+:\d+:\d+: /.test(l)) };
}

Agent('agent add writes each platform from its tarball: URL under --url-base, sha256 and size; signed, the agent reads it', async (ctx) => {
  const dir = await newChannel(ctx);
  const x64 = await tarball(ctx, 'duck-0.2.0-linux-x64.tar.gz', 3000);
  const arm = await tarball(ctx, 'duck-0.2.0-linux-arm64.tar.gz', 2000);
  const notes = join(ctx.root, 'CHANGES.md');
  await writeFile(notes, 'Agent releases in the channel.\n');
  const base = 'https://downloads.example.com/duck/';
  const r = await duckCli(dir, ['release', 'agent', 'add', x64.path, arm.path, '--version', '0.2.0', '--url-base', base, '--notes', notes]);
  assert.is(r.code, 0, r.stderr);
  assert.is((await lint(dir)).code, 0);
  const set = await duckCli(dir, ['release', 'agent', 'set', 'canary', '0.2.0']);
  assert.is(set.code, 0, set.stderr);
  const commit = await duckCli(dir, ['release', 'commit', '-m', 'agent 0.2.0', '--key', ctx.keyFile, '--json']);
  assert.is(commit.code, 0, commit.stderr);

  const head = (await agentAccepts(dir, [ctx.key])).accepted.commit;
  const release = await readAgentRelease((await openLocalRepo(dir)).objects, head, '0.2.0');
  assert.equal(release.artifacts, {
    'linux-arm64': { url: 'https://downloads.example.com/duck/duck-0.2.0-linux-arm64.tar.gz', sha256: arm.sha256, size: arm.size },
    'linux-x64': { url: 'https://downloads.example.com/duck/duck-0.2.0-linux-x64.tar.gz', sha256: x64.sha256, size: x64.size },
  });
  assert.is(release.notes, 'Agent releases in the channel.\n');
  assert.is(release.digest, createHash('sha256').update(await readFile(join(dir, 'agents/0.2.0/agent.yaml'))).digest('hex'));
});

Agent('agent add refuses a tarball not named for an agent build, or built for another version, and writes nothing', async (ctx) => {
  const dir = await newChannel(ctx);
  const other = await tarball(ctx, 'duck-0.3.0-linux-x64.tar.gz', 10);
  const wrong = await tarball(ctx, 'duck-linux.tgz', 10);
  const a = await duckCli(dir, ['release', 'agent', 'add', other.path, '--version', '0.2.0', '--url-base', 'https://dl.example.com']);
  assert.is(a.code, 2);
  assert.match(a.stderr, /duck-0\.3\.0-linux-x64\.tar\.gz: is the build of version 0\.3\.0, not --version 0\.2\.0/);
  const b = await duckCli(dir, ['release', 'agent', 'add', wrong.path, '--version', '0.2.0', '--url-base', 'https://dl.example.com']);
  assert.is(b.code, 2);
  assert.match(b.stderr, /duck-linux\.tgz: not an agent build tarball: expected duck-<version>-linux-<x64\|arm64>\.tar\.gz/);
  const c = await duckCli(dir, ['release', 'agent', 'add', other.path, '--version', '0.3.0', '--url-base', 'ftp://dl.example.com']);
  assert.is(c.code, 2);
  assert.match(c.stderr, /--url-base ftp:\/\/dl\.example\.com: must be an http\(s\) URL/);
  assert.is(await readFile(join(dir, 'agents/0.2.0/agent.yaml'), 'utf8').catch(() => null), null);
});

Agent('agent add never overwrites a published agent release', async (ctx) => {
  const dir = await newChannel(ctx);
  const x64 = await tarball(ctx, 'duck-0.2.0-linux-x64.tar.gz', 10);
  assert.is((await duckCli(dir, ['release', 'agent', 'add', x64.path, '--version', '0.2.0', '--url-base', 'https://dl.example.com'])).code, 0);
  const before = await readFile(join(dir, 'agents/0.2.0/agent.yaml'), 'utf8');
  const again = await duckCli(dir, ['release', 'agent', 'add', x64.path, '--version', '0.2.0', '--url-base', 'https://other.example.com']);
  assert.is(again.code, 2);
  assert.match(again.stderr, /agents\/0\.2\.0 exists already: a published release never changes/);
  assert.is(await readFile(join(dir, 'agents/0.2.0/agent.yaml'), 'utf8'), before);
});

Agent('agent set writes the group agent version and keeps every other line; a version without agent.yaml is refused', async (ctx) => {
  const dir = await newChannel(ctx);
  const file = join(dir, 'groups/production.yaml');
  const before = await readFile(file, 'utf8');
  const missing = await duckCli(dir, ['release', 'agent', 'set', 'production', '0.2.0']);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /agent 0\.2\.0 does not exist: no agents\/0\.2\.0\/agent\.yaml/);
  assert.is(await readFile(file, 'utf8'), before);

  for (const version of ['0.2.0', '0.3.0']) {
    const t = await tarball(ctx, `duck-${version}-linux-x64.tar.gz`, 10);
    assert.is((await duckCli(dir, ['release', 'agent', 'add', t.path, '--version', version, '--url-base', 'https://dl.example.com'])).code, 0);
  }
  assert.is((await duckCli(dir, ['release', 'agent', 'set', 'production', '0.2.0'])).code, 0);
  const first = await readFile(file, 'utf8');
  assert.ok(first.startsWith(before.trimEnd()), 'the agent key is added after what was there');
  await writeFile(file, first.replace('  version: 0.2.0', '  version: 0.2.0   # the agent the fleet runs'));
  const r = await duckCli(dir, ['release', 'agent', 'set', 'production', '0.3.0', '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json?.previous, '0.2.0');
  assert.ok((await readFile(file, 'utf8')).includes('  version: 0.3.0   # the agent the fleet runs'));
  assert.is((await lint(dir)).code, 0);
});

Agent('lint: agent.yaml valid and naming its directory, only agent.yaml under agents/, a group agent version that exists, no app named agent', async (ctx) => {
  const dir = await newChannel(ctx);
  const sha = 'a'.repeat(64);
  await mkdir(join(dir, 'agents/0.2.0'), { recursive: true });
  await writeFile(join(dir, 'agents/0.2.0/agent.yaml'), `version: 0.2.1\nartifacts:\n  linux-x64: { url: https://dl.example.com/d.tar.gz, sha256: ${sha}, size: 10 }\n`);
  await writeFile(join(dir, 'agents/0.2.0/duck-0.2.0-linux-x64.tar.gz'), 'x');
  await mkdir(join(dir, 'agents/0.4.0'), { recursive: true });
  await writeFile(join(dir, 'agents/0.4.0/agent.yaml'), 'version: 0.4.0\nartifacts: {}\n');
  const group = join(dir, 'groups/production.yaml');
  await writeFile(group, (await readFile(group, 'utf8')).replace('apps:\n  hello: 1.0.0\n', 'apps:\n  hello: 1.0.0\n  agent: 1.0.0\n') + 'agent: { version: 0.5.0 }\n');
  const r = await lint(dir);
  assert.is(r.code, 3);
  const groupLines = (await readFile(group, 'utf8')).split('\n');
  const appLine = groupLines.indexOf('  agent: 1.0.0') + 1;
  const agentLine = groupLines.indexOf('agent: { version: 0.5.0 }') + 1;
  assert.equal(r.lines, [
    'agents/0.2.0/agent.yaml:1:10: /version: names 0.2.1 but lives in agents/0.2.0',
    'agents/0.2.0/duck-0.2.0-linux-x64.tar.gz:1:1: agents/<version>/ holds only agent.yaml: the build tarballs live on an HTTP(S) server (duck release agent add)',
    'agents/0.4.0/agent.yaml:2:12: /artifacts: must not be empty',
    `groups/production.yaml:${appLine}:3: /apps/agent: no app may be named "agent": the agent's own version is the group's agent: { version }`,
    `groups/production.yaml:${agentLine}:19: /agent/version: agent 0.5.0 does not exist: there is no agents/0.5.0/agent.yaml (duck release agent add)`,
  ]);
});

Agent('the agent is not an app: release add and promote refuse the name agent and point at agent add and set', async (ctx) => {
  const dir = await newChannel(ctx);
  const add = await duckCli(dir, ['release', 'add', 'agent', '1.0.0', '--from', ctx.root]);
  assert.is(add.code, 2);
  assert.match(add.stderr, /no app may be named "agent": .*duck release agent add/);
  const promote = await duckCli(dir, ['release', 'promote', 'production', 'agent@0.2.0']);
  assert.is(promote.code, 2);
  assert.match(promote.stderr, /agent@0\.2\.0: the agent is not an app: duck release agent set production 0\.2\.0/);
});

Agent.run();
