// An operator's commands while `duck run` runs as a daemon: they are handed to it (it is the only
// writer of the node's state), and the change happens through it. Then orphans, SIGTERM and purge.
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import type { Daemon } from '../../examples/harness/daemon.js';
import { startDaemon } from '../../examples/harness/daemon.js';
import { projectContainers } from '../../examples/harness/compose-project.js';
import { requireDocker } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { HELLO_APP as APP, HELLO_PROJECT } from '../helpers/images.js';
import { promoteHello, startHelloScenario } from '../helpers/hello-channel.js';

await requireDocker();

interface Ctx {
  s: HelloScenario;
  daemon: Daemon;
}

const Op = suite<Ctx>('operator commands with duck run running (real engine)', {} as Ctx);
const ORDERS = 'orders.txt';

Op.before(async (ctx) => {
  try {
    ctx.s = await startHelloScenario({ prefix: 'duck-e2e-operator-', releases: { '1.0.0': {}, '1.1.0': {} } });
    await promoteHello(ctx.s.ch, '1.0.0', ctx.s.key);
    ctx.daemon = startDaemon(ctx.s.node);
    await ctx.daemon.waitFor((e) => e.event === 'outcome' && e.to === '1.0.0', 'the install of 1.0.0', { timeoutMs: 120_000 });
    await appendFile(ctx.s.dataFile(ORDERS), 'order 1\n');
  } catch (err) {
    console.error('operator setup failed:', err);
    throw err;
  }
});

Op.after(async (ctx) => {
  await ctx.daemon?.stop(5_000);
  await ctx.s?.close();
});

const handedOff = /handed the request to it/;

Op('duck check and duck upgrade are handed to the running duck run, which does the change', async (ctx) => {
  const mark = ctx.daemon.events.length;
  await ctx.s.writeOverlay('approval: manual\n');
  await ctx.daemon.waitFor((e) => e.event === 'overlay-changed', 'the overlay edit', { from: mark });
  await promoteHello(ctx.s.ch, '1.1.0', ctx.s.key);

  const check = await ctx.s.node.duck('check', '--json');
  assert.is(check.code, 0, check.stderr);
  assert.match(check.stderr, handedOff);
  const hello = (check.json!.apps as Array<{ app: string; desired: string; decision: string; reason: string }>).find((a) => a.app === APP)!;
  assert.equal([hello.desired, hello.decision], ['1.1.0', 'wait'], 'manual approval holds the change');
  assert.is(await ctx.s.served(), '1.0.0');

  const upgrade = await ctx.s.node.duck('upgrade', '--yes');
  assert.is(upgrade.code, 0, upgrade.stdout + upgrade.stderr);
  assert.match(upgrade.stderr, handedOff);
  assert.match(upgrade.stdout, new RegExp(`${APP}: applied \\(1\\.0\\.0 -> 1\\.1\\.0\\)`));
  assert.is(await ctx.s.served(), '1.1.0');
  assert.is(await readFile(ctx.s.dataFile(ORDERS), 'utf8'), 'order 1\n');
  await ctx.daemon.waitFor((e) => e.event === 'request' && e.kind === 'upgrade', 'the upgrade request in the daemon log', { from: mark });
});

Op('duck stop and duck start go through the daemon; the stopped app stays stopped', async (ctx) => {
  const stop = await ctx.s.node.duck('stop', APP);
  assert.is(stop.code, 0, stop.stderr);
  assert.match(stop.stderr, handedOff);
  await assert.not.ok(await ctx.s.served().then(() => true, () => false), 'nothing answers while stopped');
  assert.ok((await ctx.s.readState()).apps[APP]!.stoppedByOperator);
  const start = await ctx.s.node.duck('start', APP);
  assert.is(start.code, 0, start.stderr);
  assert.is(await ctx.s.served(), '1.1.0');
});

Op('duck ps, duck logs and duck history read what runs and what happened', async (ctx) => {
  const ps = await ctx.s.node.duck('ps', APP, '--json');
  assert.is(ps.code, 0, ps.stderr);
  const services = ps.json!.services as Array<{ service: string; state: string; health: string }>;
  assert.equal(services.map((x) => [x.service, x.state, x.health]), [['web', 'running', 'healthy']]);
  const logs = await ctx.s.node.duck('logs', APP);
  assert.is(logs.code, 0, logs.stderr);
  assert.match(logs.stdout + logs.stderr, /web/);
  const history = await ctx.s.node.duck('history', APP, '--json');
  const outcomes = (history.json!.history as Array<{ outcome: string; to: string }>).map((h) => `${h.outcome} ${h.to}`);
  assert.ok(outcomes.includes('applied 1.1.0') && outcomes.includes('stopped 1.1.0') && outcomes.includes('started 1.1.0'), outcomes.join(', '));
});

Op('duck backup, duck backups and duck restore: back to 1.0.0 with its data, pinned there', async (ctx) => {
  const made = await ctx.s.node.duck('backup', APP, '--json');
  assert.is(made.code, 0, made.stderr);
  const id = (made.json!.backup as { id: string }).id;
  const listed = await ctx.s.node.duck('backups', APP, '--json');
  const backups = listed.json!.backups as Array<{ id: string; version: string }>;
  assert.ok(backups.some((b) => b.id === id && b.version === '1.1.0'), listed.stdout);
  // The upgrade to 1.1.0 backed up 1.0.0's data first: that is the one to go back to.
  const before = backups.find((b) => b.version === '1.0.0');
  assert.ok(before, `a backup of 1.0.0 from the upgrade: ${listed.stdout}`);
  await appendFile(ctx.s.dataFile(ORDERS), 'order 2, after the upgrade\n');

  const refused = await ctx.s.node.duck('restore', before!.id, '--confirm', 'shop');
  assert.is(refused.code, 2, 'a wrong confirmation is a usage error');
  assert.is(await ctx.s.served(), '1.1.0');

  const restored = await ctx.s.node.duck('rollback', before!.id, '--confirm', APP);
  assert.is(restored.code, 0, restored.stdout + restored.stderr);
  assert.match(restored.stdout, new RegExp(`pinned ${APP} to 1\\.0\\.0`));
  assert.is(await ctx.s.served(), '1.0.0');
  assert.is(await readFile(ctx.s.dataFile(ORDERS), 'utf8'), 'order 1\n');
  assert.match(await readFile(ctx.s.node.overlayFile, 'utf8'), new RegExp(`pin:\\s*\\n?\\s*${APP}: 1\\.0\\.0`));
  // The data as it was just before the restore was kept too.
  const after = (await ctx.s.node.duck('backups', APP, '--json')).json!.backups as Array<{ id: string; version: string; reason: string }>;
  assert.is(after.length, backups.length + 1);
});

Op('an app dropped from the group is stopped once and reported orphaned, its data kept', async (ctx) => {
  assert.is((await ctx.s.node.duck('unpin', APP)).code, 0);
  const mark = ctx.daemon.events.length;
  await ctx.s.ch.write('groups/production.yaml', stringify({ apps: {} }));
  await ctx.s.ch.commit(`drop ${APP}`, ctx.s.key);
  await ctx.s.ch.publish();
  const check = await ctx.s.node.duck('check');
  assert.is(check.code, 0, check.stderr);
  await ctx.daemon.waitFor((e) => e.event === 'outcome' && e.kind === 'orphan' && e.outcome === 'applied' && e.app === APP, 'the orphan stopped', { from: mark });
  assert.not.ok(await ctx.s.served().then(() => true, () => false), 'the orphan is stopped');
  assert.ok((await ctx.s.readState()).apps[APP]!.orphaned);
  assert.ok((await projectContainers(HELLO_PROJECT)).length > 0, 'its containers are kept');
  assert.is(await readFile(ctx.s.dataFile(ORDERS), 'utf8'), 'order 1\n');
});

Op('SIGTERM stops duck run cleanly and frees the state directory', async (ctx) => {
  const code = await ctx.daemon.stop();
  assert.is(code, 0, ctx.daemon.stderr());
  assert.is(ctx.daemon.events.at(-1)!.event, 'stop');
  assert.not.ok(existsSync(join(ctx.s.node.stateDir, 'agent.pid')));
});

Op('duck purge removes the orphan only after the app name is typed; backups stay', async (ctx) => {
  const wrong = await ctx.s.node.duck('purge', APP, '--confirm', 'hell');
  assert.is(wrong.code, 2);
  assert.ok(existsSync(ctx.s.dataFile(ORDERS)));
  const purged = await ctx.s.node.duck('purge', APP, '--confirm', APP);
  assert.is(purged.code, 0, purged.stdout + purged.stderr);
  assert.not.ok(existsSync(join(ctx.s.node.stateDir, 'apps', APP)));
  assert.equal(await projectContainers(HELLO_PROJECT), []);
  assert.not.ok((await ctx.s.readState()).apps[APP]);
  const left = (await ctx.s.node.duck('backups', APP, '--json')).json!.backups as unknown[];
  assert.ok(left.length >= 3, 'the backups are kept');
  await writeFile(ctx.s.node.overlayFile, '');
});

Op.run();
