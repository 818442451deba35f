// Refusals that must come before anything stops, on a real engine: a backup that would not fit on
// disk, and an app holding its update lock past the maximum defer (then the operator decides).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { dockerEvents, mutations, requireDocker } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { HELLO_APP as APP, HELLO_PROJECT } from '../helpers/images.js';
import { promoteHello, startHelloScenario } from '../helpers/hello-channel.js';

await requireDocker();

interface Ctx {
  s: HelloScenario;
}

const Refuse = suite<Ctx>('refused before anything stops (real engine)', {} as Ctx);

Refuse.before(async (ctx) => {
  try {
    ctx.s = await startHelloScenario({ prefix: 'duck-e2e-refuse-', releases: { '1.0.0': {}, '1.1.0': {} } });
    await promoteHello(ctx.s.ch, '1.0.0', ctx.s.key);
    const r = await ctx.s.node.duck('run', '--once');
    assert.is(r.code, 0, r.stderr);
  } catch (err) {
    console.error('refusals setup failed:', err);
    throw err;
  }
});

Refuse.after(async (ctx) => {
  await ctx.s?.close();
});

async function setApply(ctx: Ctx, apply: Record<string, unknown>): Promise<void> {
  const config = parse(await readFile(ctx.s.node.configFile, 'utf8')) as Record<string, unknown>;
  config.apply = apply;
  await writeFile(ctx.s.node.configFile, stringify(config));
}

async function runOnce(ctx: Ctx) {
  const r = await ctx.s.node.duck('run', '--once', '--log-format', 'json');
  const events = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { ...r, outcomes: events.filter((e) => e.event === 'outcome') };
}

Refuse('a backup that would not fit is refused with a clear message before the stop, backs off, and duck retry tries again once there is room', async (ctx) => {
  await setApply(ctx, { minFreeBytes: 2 ** 50 });
  await promoteHello(ctx.s.ch, '1.1.0', ctx.s.key);
  const since = new Date();
  const refused = await runOnce(ctx);
  assert.equal(refused.outcomes.map((o) => o.outcome), ['failed'], refused.stdout + refused.stderr);
  assert.match(String(refused.outcomes[0]!.reason), /not enough free space in .*backups: needs 1\.0 PiB/);
  assert.equal(mutations(await dockerEvents({ project: HELLO_PROJECT, since, until: new Date() })), [], 'nothing stopped');
  assert.is(await ctx.s.served(), '1.0.0');
  assert.not.ok((await ctx.s.readState()).failed[APP], 'a full disk does not mark the release failed');

  // Room again: the back-off still holds until its next try, and duck retry is the operator's way to try now.
  await setApply(ctx, {});
  const waiting = await runOnce(ctx);
  assert.equal(waiting.outcomes, [], `the back-off holds: ${waiting.stdout}`);
  assert.is((await ctx.s.readState()).backoff[APP]?.cause, 'no-space');
  const retried = await ctx.s.node.duck('retry', APP);
  assert.is(retried.code, 0, retried.stdout + retried.stderr);
  assert.match(retried.stdout, /back-off lifted/);
  assert.is(await ctx.s.served(), '1.1.0');
  assert.is((await ctx.s.readState()).backoff[APP], undefined);
});

Refuse('an update lock held past the maximum defer waits for the operator: duck upgrade --force goes ahead', async (ctx) => {
  await setApply(ctx, { maxLockDefer: '1s' });
  const lockDir = join(ctx.s.node.stateDir, 'apps', APP, 'lock');
  await mkdir(lockDir, { recursive: true });
  await writeFile(join(lockDir, 'updates.lock'), 'busy\n');
  await promoteHello(ctx.s.ch, '1.0.0', ctx.s.key);
  const first = await runOnce(ctx);
  assert.equal(first.outcomes.map((o) => o.outcome), ['deferred'], first.stdout);
  await sleep(1_500);
  const overdue = await runOnce(ctx);
  assert.equal(overdue.outcomes.map((o) => o.outcome), ['deferred']);
  assert.match(String(overdue.outcomes[0]!.reason), /past the 1(\.0)?s maximum: the operator decides \(duck upgrade --force\)/, String(overdue.outcomes[0]!.reason));
  assert.is(await ctx.s.served(), '1.1.0');

  const polite = await ctx.s.node.duck('upgrade', '--yes');
  assert.is(polite.code, 1, 'without --force the lock still wins');
  assert.match(polite.stdout, new RegExp(`${APP}: deferred`));
  const forced = await ctx.s.node.duck('upgrade', '--yes', '--force');
  assert.is(forced.code, 0, forced.stdout + forced.stderr);
  assert.match(forced.stdout, new RegExp(`${APP}: applied \\(1\\.1\\.0 -> 1\\.0\\.0\\)`));
  assert.is(await ctx.s.served(), '1.0.0');
  await rm(join(lockDir, 'updates.lock'));
});

Refuse.run();
