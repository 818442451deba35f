// e2e lane: own compose project
// DESIGN §3: a lost state directory never means "trust whatever is there". Each stack the agent
// brings up carries the commit it was deployed from as a container label; a node whose state has
// no anchor refuses a tip that does not descend from what it runs (history-rewritten), and the
// operator accepts a deliberate reset with `duck verify --allow-reset`.
import { rm } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { docker, lines, PROJECT_LABEL } from '../../examples/harness/compose-project.js';
import type { DuckResult } from '../../examples/harness/agent-node.js';
import { makeAgentNode } from '../../examples/harness/agent-node.js';
import { requireDocker, uniqueProjectName } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { startHelloScenario } from '../helpers/hello-channel.js';

await requireDocker();

interface Ctx {
  s: HelloScenario;
}

const Floor = suite<Ctx>('a floor that survives a lost state (real engine)', {} as Ctx);

Floor.before(async (ctx) => {
  ctx.s = await startHelloScenario({ prefix: 'duck-e2e-floor-', app: uniqueProjectName('hello'), releases: { '1.0.0': {}, '1.1.0': {} } });
});

Floor.after(async (ctx) => {
  await ctx.s?.close();
});

async function publish(s: HelloScenario, version: string): Promise<string> {
  await s.ch.write('groups/production.yaml', stringify({ apps: { [s.app]: version } }));
  const oid = await s.ch.commit(`${s.app} ${version}`, s.key);
  await s.ch.publish();
  return oid;
}

async function runOnce(s: HelloScenario): Promise<void> {
  const r = await s.node.duck('run', '--once');
  assert.is(r.code, 0, `duck run --once: ${r.stdout}${r.stderr}`);
}

/** The dev.duck.commit label of each of the project's containers. */
async function deployedFrom(s: HelloScenario): Promise<string[]> {
  return lines(await docker(['ps', '--all', '--filter', `label=${PROJECT_LABEL}=${s.project}`, '--format', '{{.Label "dev.duck.commit"}}']));
}

function json(r: DuckResult): Record<string, unknown> {
  return r.json ?? {};
}

Floor('refuses a forced rollback after the state directory was lost, with history-rewritten, until the operator allows the reset', async (ctx) => {
  const { s } = ctx;
  const c1 = await publish(s, '1.0.0');
  await runOnce(s);
  assert.equal(await deployedFrom(s), [c1]);
  const c2 = await publish(s, '1.1.0');
  await runOnce(s);
  assert.is(await s.served(), '1.1.0');
  assert.equal(await deployedFrom(s), [c2], 'the upgrade labels the new containers with the commit they came from');

  await rm(s.node.stateDir, { recursive: true, force: true });
  await s.ch.resetHard(c1);
  await s.ch.publish({ force: true });

  const refused = await s.node.duck('verify', '--json');
  assert.is(refused.code, 3, refused.stderr);
  assert.is(json(refused).reason, 'history-rewritten');
  const message = String(json(refused).message);
  assert.match(message, /the state has no accepted commit \(it was lost, or this node is new\)/);
  assert.ok(message.includes(`${s.app} from ${c2.slice(0, 12)}`), message);
  assert.match(message, /duck verify --allow-reset/);
  assert.is((await s.readState()).channel.anchor, null, 'a refusal records no anchor');
  assert.is(await s.served(), '1.1.0', 'a refusal changes nothing on the node');

  const reset = await s.node.duck('verify', '--allow-reset', '--json');
  assert.is(reset.code, 0, reset.stderr);
  assert.is(json(reset).commit, c1);
  assert.is((await s.readState()).channel.anchor?.commit, c1);
});

Floor('a new node on the same engine, with no stacks of its own, accepts the channel as it is', async (ctx) => {
  // The first node's stack runs on this engine, deployed from a commit this node never accepted.
  const other = await makeAgentNode({ url: ctx.s.server.url('hello.git'), rootKeys: [ctx.s.key] });
  try {
    const r = await other.duck('verify', '--json');
    assert.is(r.code, 0, r.stderr);
    assert.is(json(r).commit, await ctx.s.ch.head());
  } finally {
    await rm(other.dir, { recursive: true, force: true });
  }
});

Floor.run();
