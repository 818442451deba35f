// DESIGN §4.11, the single-writer rule: while `duck run` holds a node, `duck verify` and `duck check`
// hand their fetch to it and write nothing in the state directory themselves. What the command
// process writes is read from the kernel (strace of its file system calls), not from its own word.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { DUCK_BIN, duckResultOf, makeAgentNode } from '../../examples/harness/agent-node.js';
import { onCI } from '../helpers/browser.js';
import type { Channel } from '../helpers/channel-builder.js';
import { createChannel } from '../helpers/channel-builder.js';
import { writeChannelYaml, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';
import type { Daemon } from '../../examples/harness/daemon.js';
import { startDaemon } from '../../examples/harness/daemon.js';
import type { GitServer } from '../../examples/harness/git-http-server.js';
import { startGitServer } from '../../examples/harness/git-http-server.js';
import type { OpenpgpTestKey } from '../../examples/harness/keys.js';
import { makeOpenpgpKey } from '../../examples/harness/keys.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';

interface Ctx {
  root: string;
  server: GitServer;
  key: OpenpgpTestKey;
  ch: Channel;
  node: AgentNode;
  daemon: Daemon;
}

const strace = await run('strace', ['-V'], { allowFailure: true }).then(
  (r) => r.code === 0,
  () => false,
);
const Writer = suite<Ctx>('one writer of the state', {} as Ctx);
const it = strace ? Writer : Writer.skip;

if (!strace && onCI) {
  Writer('the writer-session test runs (CI=true: a missing strace fails, never skips)', () => {
    assert.unreachable('strace is not installed; .ci/run installs it');
  });
} else if (!strace) {
  console.log('note: writer-session tests skipped: no strace (apt-get install strace; CI=true makes this fatal)');
}

Writer.before(async (ctx) => {
  if (!strace) return;
  ctx.root = await makeTempDir('duck-writer-');
  ctx.server = await startGitServer({ root: ctx.root });
  ctx.key = await makeOpenpgpKey('writer-root');
  ctx.ch = await createChannel({ serverRoot: ctx.root, name: 'writer' });
  await writeChannelYaml(ctx.ch, { version: 1, signers: [ctx.key] });
  await writeRelease(ctx.ch, 'shop', '1.0.0');
  // Nothing to run on this node: the daemon needs no Docker engine for these tests.
  await writeGroup(ctx.ch, 'production', {});
  await ctx.ch.commit('a channel with an empty group', ctx.key);
  await ctx.ch.publish();
  ctx.node = await makeAgentNode({ url: ctx.server.url('writer.git'), rootKeys: [ctx.key], interval: '1h' });
  ctx.daemon = startDaemon(ctx.node);
  await ctx.daemon.waitFor((e) => e.event === 'cycle', 'the first cycle');
});

Writer.after(async (ctx) => {
  if (!strace) return;
  await ctx.daemon?.stop();
  await ctx.server?.close();
  await removeTempDir(ctx.root);
  await removeTempDir(ctx.node?.dir);
});

/** A new signed commit on the channel, so the next fetch has something to accept. */
async function publishNext(ctx: Ctx, message: string): Promise<string> {
  await writeRelease(ctx.ch, 'shop', `1.0.${Date.now() % 100_000}`);
  const tip = await ctx.ch.commit(message, ctx.key);
  await ctx.ch.publish();
  return tip;
}

/** Runs the duck CLI under strace; returns its result and every path it created, wrote, renamed or removed. */
async function tracedDuck(node: AgentNode, args: string[]): Promise<{ code: number; json: Record<string, unknown> | null; stderr: string; written: string[] }> {
  const trace = join(node.dir, `strace-${Date.now()}.log`);
  const syscalls = 'openat,open,creat,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,rmdir,truncate,symlink,symlinkat,link,linkat';
  const child = spawn('strace', ['-f', '-qq', '-e', `trace=${syscalls}`, '-o', trace, process.execPath, DUCK_BIN, ...args, '--config', node.configFile], { cwd: node.dir });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const result = duckResultOf({ code, stdout: Buffer.concat(out), stderr }, args);
  return { code, json: result.json, stderr, written: writtenPaths(await readFile(trace, 'utf8'), node.dir) };
}

/** The paths of the calls that change the file system: opens for writing, renames, removals, new directories. */
function writtenPaths(trace: string, cwd: string): string[] {
  const paths: string[] = [];
  for (const line of trace.split('\n')) {
    const call = /^\d+\s+(\w+)\((.*)\)\s+=\s+(-?\d+)/.exec(line);
    if (!call || Number(call[3]) < 0) continue;
    const [, name, args] = call;
    const quoted = [...args!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
    const opensForWriting = /^(open|openat|creat)$/.test(name!) && (name === 'creat' || /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(args!));
    if (/^open/.test(name!) && !opensForWriting) continue;
    for (const p of quoted) paths.push(isAbsolute(p) ? p : join(cwd, p));
  }
  return paths;
}

/** Writes into the state directory, but for the request queue the hand-off itself uses. */
function stateWrites(node: AgentNode, written: readonly string[]): string[] {
  const requests = join(node.stateDir, 'requests');
  return written.filter((p) => (p === node.stateDir || p.startsWith(`${node.stateDir}/`)) && !p.startsWith(`${requests}/`) && p !== requests);
}

it('duck verify while duck run runs is answered by the daemon, and writes nothing in the state itself', async (ctx) => {
  const tip = await publishNext(ctx, 'a commit for duck verify');
  const from = ctx.daemon.events.length;
  const r = await tracedDuck(ctx.node, ['verify', '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json?.commit, tip, 'verify reports what the daemon accepted');
  assert.match(r.stderr, /handed the request to it/);
  await ctx.daemon.waitFor((e) => e.event === 'request' && e.kind === 'fetch', 'the daemon taking the fetch', { from });
  await ctx.daemon.waitFor((e) => e.event === 'fetched' && e.commit === tip, 'the daemon accepting the tip', { from });
  assert.equal(stateWrites(ctx.node, r.written), [], 'the command wrote nothing in the state directory');
  assert.ok(r.written.some((p) => p.startsWith(join(ctx.node.stateDir, 'requests'))), 'the hand-off went through the request queue');
  const state = JSON.parse(await readFile(join(ctx.node.stateDir, 'state.json'), 'utf8')) as { channel: { anchor: { commit: string } } };
  assert.is(state.channel.anchor.commit, tip, 'the daemon recorded the accepted commit');
});

it('duck check while duck run runs is answered by the daemon, and writes nothing in the state itself', async (ctx) => {
  const tip = await publishNext(ctx, 'a commit for duck check');
  const r = await tracedDuck(ctx.node, ['check', '--json']);
  assert.is(r.code, 0, r.stderr);
  assert.is((r.json?.channel as { commit?: string } | undefined)?.commit, tip);
  assert.is(r.json?.fetchedBy, 'duck run');
  assert.equal(stateWrites(ctx.node, r.written), [], 'the command wrote nothing in the state directory');
});

it('a refusal found by the daemon is the command\'s refusal: exit 3 with its reason', async (ctx) => {
  await writeRelease(ctx.ch, 'shop', '9.9.9');
  await ctx.ch.commit('signed by a key the channel does not trust', await makeOpenpgpKey('stranger'));
  await ctx.ch.publish();
  const r = await tracedDuck(ctx.node, ['verify', '--json']);
  assert.is(r.code, 3, r.stderr);
  assert.is(r.json?.reason, 'untrusted-signer');
  assert.equal(stateWrites(ctx.node, r.written), []);
});

it('without duck run, duck verify is the writer itself: it takes the lock and records what it accepted', async (ctx) => {
  const alone = await makeAgentNode({ url: ctx.server.url('writer.git'), rootKeys: [ctx.key] });
  try {
    const r = await tracedDuck(alone, ['verify', '--json']);
    assert.is(r.code, 3, r.stderr);
    const written = stateWrites(alone, r.written);
    assert.ok(written.includes(join(alone.stateDir, 'agent.pid')), `the instance lock was taken: ${written.join(', ')}`);
    assert.ok(written.some((p) => p.startsWith(join(alone.stateDir, 'channel.git'))), 'the clone was fetched into');
    assert.ok(written.some((p) => p.includes('state.json')), 'the refusal was recorded in the state');
  } finally {
    await removeTempDir(alone.dir);
  }
});

Writer.run();
