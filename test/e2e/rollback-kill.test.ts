// e2e lane: own compose project
// Issue 12 §7 on a real engine: an upgrade whose health fails is rolled back; the agent is killed
// (SIGKILL) in the middle of that rollback — the new version stopped, the data restored, the old
// release switched back, the old version not yet started. The next start finishes the rollback and
// the new version stays marked failed, so the run after that does not try it again.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { requireDocker, uniqueProjectName } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { startHelloScenario } from '../helpers/hello-channel.js';

await requireDocker();

const Kill = suite<{ s: HelloScenario }>('SIGKILL during a rollback (real engine)', {} as { s: HelloScenario });

Kill.before(async (ctx) => {
  try {
    ctx.s = await startHelloScenario({ prefix: 'duck-e2e-rbkill-', app: uniqueProjectName('hello'), releases: { '1.0.0': {}, '1.1.0': {} } });
    await publish(ctx.s, '1.0.0');
    const r = await ctx.s.node.duck('run', '--once');
    assert.is(r.code, 0, r.stderr);
  } catch (err) {
    console.error('rollback-kill setup failed:', err);
    throw err;
  }
});

Kill.after(async (ctx) => {
  await ctx.s?.close();
});

async function publish(s: HelloScenario, version: string): Promise<void> {
  await s.ch.write('groups/production.yaml', stringify({ apps: { [s.app]: version } }));
  await s.ch.commit(`${s.app} ${version}`, s.key);
  await s.ch.publish();
}

Kill('killed before the rollback starts the old version: the next start finishes it and 1.1.0 stays quarantined', async (ctx) => {
  const { s } = ctx;
  await publish(s, '1.1.0');
  const killed = await s.node.duckWith({ DUCK_FAULT_FAIL_HEALTH: '1.1.0', DUCK_FAULT_KILL_AT: 'rollback-up:before' }, 'run', '--once');
  assert.ok(killed.code >= 128, `the agent should have killed itself in the rollback (exit ${killed.code}): ${killed.stderr}`);
  assert.is((await s.readState()).journal[s.app]?.phase, 'rollback', 'killed halfway through the rollback');

  const recovered = await s.node.duck('run', '--once');
  assert.is(recovered.code, 0, recovered.stderr);
  let state = await s.readState();
  assert.equal(state.journal, {}, 'the rollback is finished');
  assert.is(state.apps[s.app]?.version, '1.0.0');
  assert.is(await s.served(), '1.0.0', 'the old version serves again');
  assert.is(state.failed[s.app]?.version, '1.1.0', 'the version whose health failed stays quarantined');
  const entries = state.history.length;

  // No new attempt at 1.1.0: the quarantine holds (one outage, not two).
  const again = await s.node.duck('run', '--once');
  assert.is(again.code, 0, again.stderr);
  state = await s.readState();
  assert.is(state.history.length, entries, 'nothing was tried again');
  assert.is(await s.served(), '1.0.0');
});

Kill.run();
