// The heart of DESIGN §4.3–4.4 on a real engine, through the real `duck run --once`: install,
// upgrade with data kept, a broken release rolled back and not retried, revert -> downgrade,
// pin, hold, windows, zero Docker mutations when nothing changed, and the update lock.
import { appendFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { projectContainers } from '../../examples/harness/compose-project.js';
import { dockerEvents, mutations, requireDocker } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { HELLO_APP as APP, HELLO_PROJECT as PROJECT, helloImageTag } from '../helpers/images.js';
import { promoteHello, startHelloScenario, writeHelloRelease } from '../helpers/hello-channel.js';
import { startFileServer } from '../helpers/file-server.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';

await requireDocker();

interface Ctx {
  s: HelloScenario;
  commits: Record<string, string>;
}

const Life = suite<Ctx>('hello through duck run on a real engine', {} as Ctx);

Life.before(async (ctx) => {
  try {
    ctx.s = await startHelloScenario({ prefix: 'duck-e2e-life-', releases: { '1.0.0': {}, '1.1.0': {}, '1.2.0': { healthTimeout: '12s' } } });
    ctx.commits = {};
  } catch (err) {
    console.error('lifecycle setup failed:', err);
    throw err;
  }
});

Life.after(async (ctx) => {
  await ctx.s?.close();
});

/** A restart with the same version and new compose overrides: a planned change of kind reconfigure. */
const reconfigured = (e: Record<string, unknown>): boolean => e.event === 'change' && e.kind === 'reconfigure';

async function runOnce(ctx: Ctx, env: NodeJS.ProcessEnv = {}) {
  const r = await ctx.s.node.duckWith(env, 'run', '--once', '--log-format', 'json');
  const events = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  // Version changes; a reconfigure or an orphan's stop is an outcome of its own kind.
  return { ...r, events, outcomes: events.filter((e) => e.event === 'outcome' && (e.kind === 'upgrade' || e.kind === 'restore')) };
}

Life('publish 1.0.0: installed and healthy, and the app writes its data', async (ctx) => {
  ctx.commits['1.0.0'] = await promoteHello(ctx.s.ch, '1.0.0', ctx.s.key);
  const r = await runOnce(ctx);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.outcomes.map((o) => o.outcome), ['applied'], r.stdout);
  assert.is(await ctx.s.served(), '1.0.0');
  await appendFile(ctx.s.dataFile('orders.txt'), 'order 1\n');
});

Life('publish 1.1.0: upgraded, data kept', async (ctx) => {
  ctx.commits['1.1.0'] = await promoteHello(ctx.s.ch, '1.1.0', ctx.s.key);
  const r = await runOnce(ctx);
  assert.equal(r.outcomes.map((o) => o.outcome), ['applied'], r.stdout + r.stderr);
  assert.is(await ctx.s.served(), '1.1.0');
  assert.is(await readFile(ctx.s.dataFile('orders.txt'), 'utf8'), 'order 1\n');
  await appendFile(ctx.s.dataFile('orders.txt'), 'order 2\n');
});

Life('publish 1.2.0 (never healthy): rolled back to 1.1.0 with data intact, marked failed, not retried', async (ctx) => {
  ctx.commits['1.2.0'] = await promoteHello(ctx.s.ch, '1.2.0', ctx.s.key);
  const r = await runOnce(ctx);
  assert.equal(r.outcomes.map((o) => o.outcome), ['rolled-back'], r.stdout + r.stderr);
  assert.is(await ctx.s.served(), '1.1.0');
  assert.is(await readFile(ctx.s.dataFile('orders.txt'), 'utf8'), 'order 1\norder 2\n');
  // 1.2.0 did start (and logged it) before failing: the restore took its writes back, in the data
  // directory and in the named volume alike.
  assert.match(await ctx.s.volumeStartsLog(), /1\.1\.0\n$/);
  assert.not.match(await ctx.s.volumeStartsLog(), /1\.2\.0/);
  assert.not.match(await readFile(ctx.s.dataFile('starts.log'), 'utf8'), /1\.2\.0/);
  const s = await ctx.s.readState();
  assert.is(s.apps[APP]!.version, '1.1.0');
  assert.is(s.failed[APP]!.version, '1.2.0');

  const since = new Date();
  const again = await runOnce(ctx);
  assert.equal(again.outcomes, [], 'a failed version is not retried on the same commit');
  assert.ok(again.events.some((e) => e.event === 'wait' && /failed on this node/.test(String(e.reason))));
  assert.equal(mutations(await dockerEvents({ project: PROJECT, since, until: new Date() })), []);
});

Life('duck retry: the failed 1.2.0 is tried again once, rolled back again, and counted', async (ctx) => {
  const r = await ctx.s.node.duck('retry', APP);
  assert.is(r.code, 1, 'a retry that rolls back again is not a success');
  assert.match(r.stdout, new RegExp(`${APP} 1\\.2\\.0 may be tried again`));
  assert.match(r.stdout, new RegExp(`${APP}: rolled-back \\(1\\.1\\.0 -> 1\\.2\\.0\\)`));
  assert.is(await ctx.s.served(), '1.1.0');
  assert.is(await readFile(ctx.s.dataFile('orders.txt'), 'utf8'), 'order 1\norder 2\n');
  const failed = (await ctx.s.readState()).failed[APP]!;
  assert.equal([failed.version, failed.attempts], ['1.2.0', 2]);
});

Life('revert in the channel: back to 1.1.0, then to 1.0.0, data kept', async (ctx) => {
  await ctx.s.ch.revert(ctx.commits['1.2.0']!, ctx.s.key);
  await ctx.s.ch.publish();
  let r = await runOnce(ctx);
  assert.equal(r.outcomes, [], 'already on 1.1.0: nothing to do');
  await ctx.s.ch.revert(ctx.commits['1.1.0']!, ctx.s.key);
  await ctx.s.ch.publish();
  r = await runOnce(ctx);
  assert.equal(r.outcomes.map((o) => [o.outcome, o.to]), [['applied', '1.0.0']], r.stdout + r.stderr);
  assert.is(await ctx.s.served(), '1.0.0');
  assert.is(await readFile(ctx.s.dataFile('orders.txt'), 'utf8'), 'order 1\norder 2\n');
  // Kept: the running and the previous release (keepReleases 2) and their images; 1.2.0 goes.
  assert.equal((await readdir(join(ctx.s.node.stateDir, 'apps', APP, 'releases'))).sort(), ['1.0.0', '1.1.0']);
  assert.is((await run('docker', ['image', 'inspect', helloImageTag('1.2.0')], { allowFailure: true })).code, 1, 'the 1.2.0 image is pruned');
  assert.is((await run('docker', ['image', 'inspect', helloImageTag('1.1.0')], { allowFailure: true })).code, 0, 'the previous image stays');
});

Life('a pin in the overlay is honoured; a hold stops every change', async (ctx) => {
  await ctx.s.writeOverlay(`pin: { ${APP}: 1.1.0 }\n`);
  let r = await runOnce(ctx);
  assert.equal(r.outcomes.map((o) => [o.outcome, o.to]), [['applied', '1.1.0']], r.stdout + r.stderr);
  assert.is(await ctx.s.served(), '1.1.0');
  await ctx.s.writeOverlay('hold: { reason: audit week }\n');
  const since = new Date();
  r = await runOnce(ctx);
  assert.equal(r.outcomes, []);
  assert.ok(r.events.some((e) => e.event === 'wait' && /^held: audit week/.test(String(e.reason))));
  assert.equal(mutations(await dockerEvents({ project: PROJECT, since, until: new Date() })), []);
  assert.is(await ctx.s.served(), '1.1.0');
});

Life('outside a window nothing changes', async (ctx) => {
  const later = new Date(Date.now() + 12 * 3_600_000);
  const day = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][later.getUTCDay()];
  await ctx.s.writeOverlay(`windows: [ { days: [${day}], start: "${later.toISOString().slice(11, 16)}", duration: 1h, timezone: UTC } ]\n`);
  const since = new Date();
  const r = await runOnce(ctx);
  assert.equal(r.outcomes, []);
  assert.ok(r.events.some((e) => e.event === 'wait' && /waiting for window/.test(String(e.reason))), r.stdout);
  assert.equal(mutations(await dockerEvents({ project: PROJECT, since, until: new Date() })), []);
  assert.is(await ctx.s.served(), '1.1.0');
});

Life('twenty polls with nothing new, one service stopped by the operator: zero Docker mutations', async (ctx) => {
  await ctx.s.writeOverlay(`pin: { ${APP}: 1.1.0 }\n`);
  assert.is((await ctx.s.node.duck('stop', APP)).code, 0);
  const since = new Date();
  for (let i = 0; i < 20; i++) {
    const r = await runOnce(ctx);
    assert.is(r.code, 0, r.stderr);
    assert.equal(r.outcomes, []);
  }
  assert.equal(mutations(await dockerEvents({ project: PROJECT, since, until: new Date() })), []);
  assert.is((await ctx.s.node.duck('start', APP)).code, 0);
});

Life('an app holding its update lock defers the change, which goes ahead when the lock goes', async (ctx) => {
  await ctx.s.writeOverlay(`pin: { ${APP}: 1.0.0 }\n`);
  const lockDir = join(ctx.s.node.stateDir, 'apps', APP, 'lock');
  await mkdir(lockDir, { recursive: true });
  await writeFile(join(lockDir, 'updates.lock'), '');
  let r = await runOnce(ctx);
  assert.equal(r.outcomes.map((o) => o.outcome), ['deferred'], r.stdout + r.stderr);
  assert.is(await ctx.s.served(), '1.1.0', 'the old version keeps serving');
  await rm(join(lockDir, 'updates.lock'));
  r = await runOnce(ctx);
  assert.equal(r.outcomes.map((o) => [o.outcome, o.to]), [['applied', '1.0.0']], r.stdout + r.stderr);
  const s = await ctx.s.readState();
  assert.ok(s.history.some((h) => h.outcome === 'deferred'));
});

Life("an edit of the overlay's compose override is applied by itself; the same overlay again changes nothing", async (ctx) => {
  await writeFile(join(ctx.s.node.dir, 'override.yaml'), 'services:\n  web:\n    environment:\n      DUCK_TEST_MARK: "one"\n');
  const override = `compose:\n  ${APP}:\n    files: [override.yaml]\n    env: { HELLO_PORT: "${ctx.s.port}" }\n`;
  await writeFile(ctx.s.node.overlayFile, override);
  let r = await runOnce(ctx);
  assert.equal(r.outcomes, [], 'no version change');
  assert.ok(r.events.some((e) => e.event === 'outcome' && e.kind === 'reconfigure' && e.app === APP && e.outcome === 'applied'), r.stdout);
  const ids = (await projectContainers(PROJECT)).filter(Boolean);
  const inspected = (await run('docker', ['inspect', '--format', '{{json .Config.Env}}', ...ids])).stdout.toString();
  assert.match(inspected, /DUCK_TEST_MARK=one/);
  const since = new Date();
  r = await runOnce(ctx);
  assert.ok(!r.events.some(reconfigured));
  assert.equal(mutations(await dockerEvents({ project: PROJECT, since, until: new Date() })), []);
  await ctx.s.writeOverlay('');
  assert.ok((await runOnce(ctx)).events.some(reconfigured), 'removing the override is a change too');
});

Life('an image archive with a wrong sha256 is refused before anything stops', async (ctx) => {
  await ctx.s.writeOverlay('');
  const dir = await makeTempDir('duck-e2e-archive-');
  const files = await startFileServer({ root: dir });
  try {
    const bytes = Buffer.from('not the archive the release names\n'.repeat(1000));
    await writeFile(join(dir, 'hello-1.3.0.tar'), bytes);
    const image = { ref: helloImageTag('1.3.0'), id: `sha256:${'0'.repeat(64)}`, archive: { url: files.url('hello-1.3.0.tar'), sha256: 'f'.repeat(64), size: bytes.length } };
    await writeHelloRelease(ctx.s.ch, '1.3.0', { imageId: image.id, extra: { images: [image] } });
    await promoteHello(ctx.s.ch, '1.3.0', ctx.s.key);
    const before = await ctx.s.served();
    const since = new Date();
    const r = await runOnce(ctx);
    assert.equal(r.outcomes.map((o) => o.outcome), ['failed'], r.stdout + r.stderr);
    assert.match(String(r.outcomes[0]!.reason), /sha256/);
    assert.ok(files.requestsFor('hello-1.3.0.tar').length > 0, 'the archive was really downloaded');
    assert.equal(mutations(await dockerEvents({ project: PROJECT, since, until: new Date() })), [], 'nothing was stopped');
    assert.is(await ctx.s.served(), before);
    assert.is((await ctx.s.readState()).failed[APP]!.version, '1.3.0');
  } finally {
    await files.close();
    await removeTempDir(dir);
  }
});

Life.run();
