// e2e lane: own compose project
// Issue 14 §6 end to end: a signed channel, a real controller, and two real agents in group canary
// that report to it; `duck release gate` (the built CLI, with the read-only token) passes once the
// version runs healthy on both, and fails (exit 3) for a release whose health fails on both. The
// two nodes share this engine and so one compose project (the agent names it after the app): they
// take turns (`duck run --once` one after the other), each with its own state, release and data.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { startTestController, type TestController } from '../helpers/controller.js';
import { requireDocker, uniqueProjectName } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { promoteHello, startHelloScenario } from '../helpers/hello-channel.js';
import { duckCli } from '../helpers/release-cli.js';

await requireDocker();

interface Context {
  ctl: TestController;
  s: HelloScenario;
  nodes: AgentNode[];
}

const Gate = suite<Context>('duck release gate over two real agents (real engine)', {} as Context);

Gate.before(async (ctx) => {
  try {
    ctx.ctl = await startTestController();
    const node = { group: 'canary', controller: { url: ctx.ctl.url, enrollToken: ctx.ctl.enrollToken, interval: '1h' } };
    ctx.s = await startHelloScenario({ prefix: 'duck-e2e-gate-', app: uniqueProjectName('hello'), releases: { '1.1.0': {}, '1.2.0': { healthTimeout: '6s' } }, node });
    ctx.nodes = [ctx.s.node, await ctx.s.addNode()];
  } catch (err) {
    console.error('release-gate setup failed:', err);
    throw err;
  }
});

Gate.after(async (ctx) => {
  await ctx.s?.close();
  await ctx.ctl?.stop();
});

function gate(ctx: Context, version: string, ...extra: string[]) {
  const args = ['release', 'gate', '--controller', ctx.ctl.url, '--group', 'canary', '--app', ctx.s.app, '--version', version, '--max-failed', '0%', ...extra];
  return duckCli(ctx.s.root, args, { DUCK_CONTROLLER_TOKEN: ctx.ctl.readToken });
}

/** Each node in turn runs one cycle (fetch, verify, apply, health) and sends its report before it exits. */
async function cycle(ctx: Context): Promise<void> {
  for (const [i, node] of ctx.nodes.entries()) {
    const r = await node.duck('run', '--once');
    assert.ok(r.code === 0 || r.code === 1, `node ${i}: ${r.stderr}`);
  }
}

Gate('1.1.0 runs healthy on both canaries: the gate passes (exit 0); asking for three nodes is undecided (exit 1)', async (ctx) => {
  await promoteHello(ctx.s.ch, '1.1.0', ctx.s.key, 'canary', {}, ctx.s.app);
  await cycle(ctx);
  const passed = await gate(ctx, '1.1.0', '--min-nodes', '2');
  assert.is(passed.code, 0, passed.stderr);
  assert.match(passed.stdout, new RegExp(`${ctx.s.app} 1\\.1\\.0 in group canary passed: healthy on 2 of 2 nodes`));
  const short = await gate(ctx, '1.1.0', '--min-nodes', '3');
  assert.is(short.code, 1, short.stderr);
  assert.match(short.stderr, /gate undecided: .*healthy on 2 of 2 nodes/);
});

Gate('1.2.0 fails its health on both canaries and is rolled back: the gate fails (exit 3)', async (ctx) => {
  await promoteHello(ctx.s.ch, '1.2.0', ctx.s.key, 'canary', {}, ctx.s.app);
  await cycle(ctx);
  const failed = await gate(ctx, '1.2.0', '--min-nodes', '2', '--wait', '5m', '--interval', '1s');
  assert.is(failed.code, 3, failed.stderr);
  assert.match(failed.stderr, new RegExp(`gate failed: ${ctx.s.app} 1\\.2\\.0 in group canary failed: healthy on 0 of 2 nodes in the rollout, failed by the release on 2`));
  assert.is(await ctx.s.served(), '1.1.0', 'the canaries serve the old version again');
});

Gate.run();
