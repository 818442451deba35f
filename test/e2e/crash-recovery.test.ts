// DESIGN §4.3: every step is journalled before it runs; an agent killed with SIGKILL at any step
// and started again brings the app to a healthy old or new version with its data intact.
import { appendFile, readFile } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { UPGRADE_STEPS } from '../../agent/src/core/steps.js';
import { requireDocker } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { HELLO_APP as APP } from '../helpers/images.js';
import { promoteHello, startHelloScenario } from '../helpers/hello-channel.js';

await requireDocker();

interface Ctx {
  s: HelloScenario;
  version: string;
}

const Crash = suite<Ctx>('SIGKILL at every journal step', {} as Ctx);
const PRECIOUS = 'precious.txt';

Crash.before(async (ctx) => {
  try {
    ctx.s = await startHelloScenario({ prefix: 'duck-e2e-crash-', releases: { '1.0.0': {}, '1.1.0': {} } });
    await promoteHello(ctx.s.ch, '1.0.0', ctx.s.key);
    const r = await ctx.s.node.duck('run', '--once');
    assert.is(r.code, 0, r.stderr);
    ctx.version = '1.0.0';
    await appendFile(ctx.s.dataFile(PRECIOUS), 'kept through every crash\n');
  } catch (err) {
    console.error('crash-recovery setup failed:', err);
    throw err;
  }
});

Crash.after(async (ctx) => {
  await ctx.s?.close();
});

async function healthyState(ctx: Ctx): Promise<{ version: string; journal: Record<string, unknown> }> {
  const s = await ctx.s.readState();
  return { version: s.apps[APP]!.version, journal: s.journal };
}

// Each kill point flips the app between 1.0.0 and 1.1.0, so every case is a real change.
for (const step of [...UPGRADE_STEPS.filter((k) => k !== 'restoreData'), 'rollback']) {
  for (const when of step === 'rollback' ? ['before'] : ['before', 'after']) {
    Crash(`killed ${when} ${step}: restarted, the app is healthy on the old or new version with its data`, async (ctx) => {
      const target = ctx.version === '1.0.0' ? '1.1.0' : '1.0.0';
      await promoteHello(ctx.s.ch, target, ctx.s.key);
      // A kill at `rollback` needs a failure first: DUCK_FAULT_FAIL_HEALTH fails the new version's health check.
      const env = step === 'rollback' ? { DUCK_FAULT_KILL_AT: 'rollback:before', DUCK_FAULT_FAIL_HEALTH: target } : { DUCK_FAULT_KILL_AT: `${step}:${when}` };
      const killed = await ctx.s.node.duckWith(env, 'run', '--once');
      assert.ok(killed.code >= 128, `the agent should have killed itself at ${step}:${when} (exit ${killed.code}): ${killed.stderr}`);
      const recovered = await ctx.s.node.duck('run', '--once');
      assert.is(recovered.code, 0, recovered.stderr);
      const after = await healthyState(ctx);
      assert.equal(after.journal, {}, 'the journal is finished');
      assert.ok([ctx.version, target].includes(after.version));
      assert.is(await ctx.s.served(), after.version, 'the recorded version is the one serving');
      assert.is(await readFile(ctx.s.dataFile(PRECIOUS), 'utf8'), 'kept through every crash\n');
      // A second run converges on the target if recovery went back to the old version.
      if (after.version !== target) {
        const converge = await ctx.s.node.duck('run', '--once');
        assert.is(converge.code, 0, converge.stderr);
      }
      ctx.version = (await healthyState(ctx)).version;
      assert.is(await ctx.s.served(), ctx.version);
    });
  }
}

Crash.run();
