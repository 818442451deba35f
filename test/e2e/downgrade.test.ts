// DESIGN §4.4 on a real engine: a revert away from a release that declares irreversible
// migrations restores the data it had before that release, keeps the newer data in a backup, and
// survives a SIGKILL right after the restore. Then SIGTERM in the middle of a download: the old
// version keeps serving and nothing is stopped.
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startDaemon } from '../../examples/harness/daemon.js';
import { dockerEvents, mutations, requireDocker } from '../helpers/docker.js';
import { startFileServer } from '../helpers/file-server.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { HELLO_APP as APP, HELLO_PROJECT, helloImageTag } from '../helpers/images.js';
import { promoteHello, startHelloScenario, writeHelloRelease } from '../helpers/hello-channel.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';

await requireDocker();

interface Ctx {
  s: HelloScenario;
}

const Down = suite<Ctx>('downgrades and stopping mid-change (real engine)', {} as Ctx);
const ORDERS = 'orders.txt';

Down.before(async (ctx) => {
  try {
    ctx.s = await startHelloScenario({ prefix: 'duck-e2e-down-', releases: { '1.0.0': {}, '1.1.0': { extra: { migrations: 'irreversible' } } } });
    await promoteHello(ctx.s.ch, '1.0.0', ctx.s.key);
    const r = await ctx.s.node.duck('run', '--once');
    assert.is(r.code, 0, r.stderr);
    await appendFile(ctx.s.dataFile(ORDERS), 'written by 1.0.0\n');
  } catch (err) {
    console.error('downgrade setup failed:', err);
    throw err;
  }
});

Down.after(async (ctx) => {
  await ctx.s?.close();
});

Down('leaving an irreversible release restores the data from before it, even across a SIGKILL; the newer data stays in a backup', async (ctx) => {
  const upgrade = await promoteHello(ctx.s.ch, '1.1.0', ctx.s.key);
  assert.is((await ctx.s.node.duck('run', '--once')).code, 0);
  assert.is(await ctx.s.served(), '1.1.0');
  await appendFile(ctx.s.dataFile(ORDERS), 'written by 1.1.0 in its new format\n');

  await ctx.s.ch.revert(upgrade, ctx.s.key);
  await ctx.s.ch.publish();
  const killed = await ctx.s.node.duckWith({ DUCK_FAULT_KILL_AT: 'restoreData:after' }, 'run', '--once');
  assert.ok(killed.code >= 128, `killed right after the restore (exit ${killed.code}): ${killed.stderr}`);
  const recovered = await ctx.s.node.duck('run', '--once');
  assert.is(recovered.code, 0, recovered.stderr);
  const afterCrash = await ctx.s.readState();
  assert.equal(afterCrash.journal, {});
  assert.is(await ctx.s.served(), afterCrash.apps[APP]!.version);
  if (afterCrash.apps[APP]!.version === '1.1.0') {
    // Recovery went back to 1.1.0 with its data; the next cycle makes the downgrade again.
    assert.is(await readFile(ctx.s.dataFile(ORDERS), 'utf8'), 'written by 1.0.0\nwritten by 1.1.0 in its new format\n');
    assert.is((await ctx.s.node.duck('run', '--once')).code, 0);
  }
  assert.is(await ctx.s.served(), '1.0.0');
  assert.is(await readFile(ctx.s.dataFile(ORDERS), 'utf8'), 'written by 1.0.0\n', 'the data 1.0.0 had before the irreversible upgrade');

  const listed = await ctx.s.node.duck('backups', APP, '--json');
  const dir = listed.json!.dir as string;
  const newer = (listed.json!.backups as Array<{ id: string; version: string }>).filter((b) => b.version === '1.1.0');
  const kept = await Promise.all(newer.map((b) => readFile(join(dir, b.id, 'data', 'web', ORDERS), 'utf8').catch(() => '')));
  assert.ok(kept.includes('written by 1.0.0\nwritten by 1.1.0 in its new format\n'), 'the 1.1.0 data is kept in a backup, not deleted');
});

Down('SIGTERM while an image downloads: the change is abandoned, nothing stops, duck run exits 0', async (ctx) => {
  const dir = await makeTempDir('duck-e2e-slow-');
  const files = await startFileServer({ root: dir });
  try {
    const bytes = Buffer.alloc(4 << 20, 7);
    await writeFile(join(dir, 'hello-2.0.0.tar'), bytes);
    files.fault('hello-2.0.0.tar', { chunkDelayMs: 100 });
    const image = { ref: helloImageTag('2.0.0'), id: `sha256:${'1'.repeat(64)}`, archive: { url: files.url('hello-2.0.0.tar'), sha256: 'a'.repeat(64), size: bytes.length } };
    await writeHelloRelease(ctx.s.ch, '2.0.0', { imageId: image.id, extra: { images: [image] } });
    await promoteHello(ctx.s.ch, '2.0.0', ctx.s.key);
    const since = new Date();
    const daemon = startDaemon(ctx.s.node);
    await daemon.waitFor((e) => e.event === 'download', 'the download to start', { timeoutMs: 60_000 });
    const code = await daemon.stop();
    assert.is(code, 0, daemon.stderr());
    const outcome = daemon.events.find((e) => e.event === 'outcome');
    assert.is(outcome?.outcome, 'interrupted', JSON.stringify(daemon.events.slice(-6)));
    assert.ok(files.requestsFor('hello-2.0.0.tar').every((r) => !r.complete), 'the download was cut short');
    assert.equal(mutations(await dockerEvents({ project: HELLO_PROJECT, since, until: new Date() })), []);
    assert.is(await ctx.s.served(), '1.0.0');
    const state = await ctx.s.readState();
    assert.equal([state.journal, state.failed[APP]], [{}, undefined], 'not marked failed: it was only interrupted');
  } finally {
    await files.close();
    await removeTempDir(dir);
  }
});

Down.run();
