// The embedded store's files (what the contract suite cannot see): a report appends one line to
// the log and leaves fleet.json alone; a process killed while writing loses nothing it answered,
// and a torn last line is cut off with a warning; compaction keeps exactly the kept events, beside
// reports arriving meanwhile, with ids idempotent across it and a restart; a format-1 fleet.json
// moves on first start; a damaged line refuses the start naming the file and line.
import { spawn } from 'node:child_process';
import { appendFile, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EmbeddedFleetStore, loadFleetDir } from '../../controller/src/store/embedded-fleet-store.js';
import { FleetData, emptyFleetFile } from '../../controller/src/store/fleet-data.js';
import { StoreOpenError } from '../../controller/src/store/fleet-store.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { buildChange, buildFacts, buildReport } from '../helpers/controller.js';

const test = suite<{ dir: string }>('embedded store', { dir: '' });
test.before.each(async (ctx) => {
  ctx.dir = await makeTempDir('duck-embedded-store-');
});
test.after.each(async (ctx) => {
  await removeTempDir(ctx.dir);
});

const DAY = 86_400_000;
const WRITER = new URL('../helpers/embedded-store-writer.ts', import.meta.url).pathname;

async function logFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
}

async function documents(dir: string): Promise<{ format: number; log: string; seq: number }> {
  return JSON.parse(await readFile(join(dir, 'fleet.json'), 'utf8')) as { format: number; log: string; seq: number };
}

/** The log's lines, parsed. */
async function logLines(dir: string): Promise<{ s: number; k: string; id?: string; events?: { id: string }[] }[]> {
  const { log } = await documents(dir);
  return (await readFile(join(dir, log), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as never);
}

test('a report is one line appended to the log: fleet.json is not rewritten', async ({ dir }) => {
  const store = await EmbeddedFleetStore.open(dir);
  try {
    await store.register('a-1', buildFacts(), 'hash-a-1', new Date());
    const file = join(dir, 'fleet.json');
    const before = await stat(file);
    const content = await readFile(file);
    const event = buildChange('shop', '1', '2', 'applied');
    await store.recordReport(buildReport('a-1', { events: [event] }), new Date());
    const after = await stat(file);
    assert.equal([after.ino, after.mtimeMs], [before.ino, before.mtimeMs], 'fleet.json left as it was');
    assert.ok(content.equals(await readFile(file)));
    const last = (await logLines(dir)).at(-1)!;
    assert.is(last.k, 'report');
    assert.ok(JSON.stringify(last).includes(event.id));
  } finally {
    await store.close();
  }
});

test('a writer killed mid-run loses no report it answered; a torn last line is cut off with a warning and the log goes on', async ({ dir }) => {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked: string[] = [];
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for await (const line of createInterface({ input: child.stdout })) {
    if (line !== 'enrolled') acked.push(line);
    if (acked.length === 300) child.kill('SIGKILL');
  }
  await exited;
  // What a kill inside write() leaves, whether or not this kill landed there: half a line.
  const { log } = await documents(dir);
  await appendFile(join(dir, log), '{"s":999999,"k":"report","at":"2026-');
  const warnings: string[] = [];
  const store = await EmbeddedFleetStore.open(dir, { warn: (m) => warnings.push(m) });
  try {
    const kept = new Set((await store.events('writer-1', 100_000)).map((e) => e.id));
    assert.equal(acked.filter((id) => !kept.has(id)), [], 'every answered report is there');
    assert.is(warnings.length, 1);
    assert.match(warnings[0]!, `${join(dir, log)}: ignored a torn last line`);
    assert.ok((await readFile(join(dir, log), 'utf8')).endsWith('\n'), 'the torn bytes are cut off the file');
    const event = buildChange('shop', '1.1.0', '1.2.0', 'applied');
    await store.recordReport(buildReport('writer-1', { events: [event] }), new Date());
    await store.close();
    const reopened = await EmbeddedFleetStore.open(dir, { warn: (m) => warnings.push(m) });
    assert.is((await reopened.events('writer-1', 1))[0]?.id, event.id, 'the line after the cut reads back');
    assert.is(warnings.length, 1, 'no torn line the second time');
    await reopened.close();
  } finally {
    await store.close();
  }
});

test('compaction keeps exactly the kept events, beside reports arriving meanwhile; ids stay idempotent across it and a restart', async ({ dir }) => {
  const open = () => EmbeddedFleetStore.open(dir, { maxEventsPerAgent: 3, compactAfterBytes: 1 << 30 });
  let store = await open();
  try {
    const ids = ['c-1', 'c-2', 'c-3'];
    for (const id of ids) await store.register(id, buildFacts({ hostname: id }), `hash-${id}`, new Date());
    const old = buildChange('shop', '0', '1', 'applied');
    await store.recordReport(buildReport('c-1', { events: [old] }), new Date(Date.now() - 100 * DAY));
    const sent = new Map<string, string[]>(ids.map((id) => [id, []]));
    for (let round = 0; round < 5; round++) {
      for (const id of ids.slice(0, 2)) {
        const event = buildChange('shop', `${round}`, `${round + 1}`, 'applied');
        sent.get(id)!.push(event.id);
        await store.recordReport(buildReport(id, { events: [event] }), new Date());
      }
    }
    assert.equal((await store.prune(new Date(), { eventRetentionMs: 90 * DAY, diagnosticsRetentionMs: 30 * DAY })).events, 0, 'the cap dropped the old event already');
    const firstLog = (await documents(dir)).log;
    // Reports during the compaction: appended to the old log, then copied into the new one.
    const during = ids.map(() => buildChange('blog', '1', '2', 'applied'));
    await Promise.all([store.compact(), ...ids.map((id, i) => store.recordReport(buildReport(id, { events: [during[i]!] }), new Date()))]);
    ids.forEach((id, i) => sent.get(id)!.push(during[i]!.id));
    const kept = new Map(await Promise.all(ids.map(async (id) => [id, (await store.events(id, 10)).map((e) => e.id).reverse()] as const)));
    assert.equal(kept.get('c-1'), sent.get('c-1')!.slice(-3));
    assert.equal(kept.get('c-3'), [during[2]!.id]);

    const docs = await documents(dir);
    assert.is.not(docs.log, firstLog);
    assert.equal(await logFiles(dir), [docs.log], 'the old log is gone');
    const lines = await logLines(dir);
    const logged = (id: string): string[] => lines.filter((l) => (l.id ?? (l as { r?: { agentId: string } }).r?.agentId) === id).flatMap((l) => (l.events ?? (l as { r?: { events: { id: string }[] } }).r?.events ?? []).map((e) => e.id));
    for (const id of ids) assert.equal(logged(id).filter((e) => kept.get(id)!.includes(e)), kept.get(id), `${id}: the new log holds its kept events`);
    assert.not.ok(logged('c-1').includes(old.id), 'a dropped event is not written again');

    const fleetBefore = { outcomes: await store.outcomes(), agents: JSON.parse(JSON.stringify(await store.listAgents())) as unknown };
    await store.close();
    store = await open();
    assert.equal({ outcomes: await store.outcomes(), agents: JSON.parse(JSON.stringify(await store.listAgents())) as unknown }, fleetBefore, 'the same answers after the restart');
    for (const id of ids) assert.equal((await store.events(id, 10)).map((e) => e.id).reverse(), kept.get(id));
    for (const id of ids) {
      const again = await store.recordReport(buildReport(id, { events: kept.get(id)!.map((e) => ({ ...buildChange('shop', '1', '2', 'applied'), id: e })) }), new Date());
      assert.equal([again.accepted, again.duplicates], [0, kept.get(id)!.length], `${id}: kept ids are duplicates`);
    }
    const back = await store.recordReport(buildReport('c-1', { events: [old] }), new Date());
    assert.is(back.accepted, 1, 'an id the cap dropped counts as new, as the contract says');
  } finally {
    await store.close();
  }
});

test('a format-1 fleet.json (events inside) moves to documents and a log on first start, with the same answers', async ({ dir }) => {
  const data = new FleetData(emptyFleetFile());
  data.register('v-1', buildFacts({ hostname: 'old' }), 'hash-v-1', new Date('2026-01-01T00:00:00Z'));
  const event = buildChange('shop', '1', '2', 'rolled-back', { reason: 'health 500' });
  data.applyReport(buildReport('v-1', { events: [event] }), new Date('2026-01-02T00:00:00Z'));
  data.addAlert({ group: 'production', app: 'shop', version: '2', rate: 1, attempts: 1, failures: 1, at: '2026-01-02T00:00:00.000Z' });
  await writeFile(join(dir, 'fleet.json'), JSON.stringify(data.file));
  const before = (await loadFleetDir(dir)).data.file;
  const warnings: string[] = [];
  const store = await EmbeddedFleetStore.open(dir, { warn: (m) => warnings.push(m) });
  try {
    assert.match(warnings.join('\n'), 'moved to the small-documents format 2');
    const docs = await documents(dir);
    assert.is(docs.format, 2);
    assert.not.ok(JSON.stringify(docs).includes(event.id), 'the events left fleet.json');
    assert.equal(JSON.parse(JSON.stringify((await loadFleetDir(dir)).data.file)), JSON.parse(JSON.stringify(before)));
    const again = await store.recordReport(buildReport('v-1', { events: [event] }), new Date());
    assert.equal([again.accepted, again.duplicates], [0, 1], 'its ids moved with it');
    assert.equal((await store.recentFailures(5)).map((f) => f.reason), ['health 500']);
  } finally {
    await store.close();
  }
});

test('a damaged line before the last refuses the start, naming the file and line; so do a missing log and a log without fleet.json', async ({ dir }) => {
  const store = await EmbeddedFleetStore.open(dir);
  await store.register('x-1', buildFacts(), 'hash-x-1', new Date());
  await store.recordReport(buildReport('x-1', { events: [buildChange('shop', '1', '2', 'applied')] }), new Date());
  await store.close();
  const { log } = await documents(dir);
  const file = join(dir, log);
  const lines = (await readFile(file, 'utf8')).split('\n');
  await writeFile(file, [lines[0], '{"s": oops', ...lines.slice(1)].join('\n'));
  const err = await EmbeddedFleetStore.open(dir).then(() => null, (e: unknown) => e as Error);
  assert.instance(err, StoreOpenError);
  assert.match(err!.message, `${file}: line 2 is not valid JSON`);
  await writeFile(file, lines.join('\n'));
  await writeFile(join(dir, 'fleet.json'), JSON.stringify({ ...(await documents(dir)), log: 'events-77.log' }));
  const missing = await EmbeddedFleetStore.open(dir).then(() => null, (e: unknown) => e as Error);
  assert.match(missing?.message ?? '', `${join(dir, 'events-77.log')}: missing: ${join(dir, 'fleet.json')} names it as its log`);
  await rm(join(dir, 'fleet.json'));
  const orphan = await EmbeddedFleetStore.open(dir).then(() => null, (e: unknown) => e as Error);
  assert.match(orphan?.message ?? '', `${join(dir, 'fleet.json')}: missing, but ${log} is there`);
  assert.equal(await logFiles(dir), [log], 'the log is left as it was');
});

test.run();
