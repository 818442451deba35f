// `duck-controller migrate-store`: a fleet built over HTTP on the embedded store (enrollments,
// reports with a failure and its alert, a released id, a diagnostics bundle) moves into PostgreSQL,
// and a controller on the database then answers as the old one did — the same summary, agents,
// agent pages and diagnostics — while agents keep their tokens and a report sent again is still a
// duplicate. Every store read answers the same for a fleet past one insert statement. A database
// that already holds a fleet is refused, and a fleet.json a controller writes during the copy rolls
// the move back. Each test makes its own database and drops it; without a server the file skips
// with a note, unless CI=true.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import pg from 'pg';
import { SourceChangedError, sourceGuard } from '../../controller/src/migrate-store-command.js';
import { startController, type RunningController } from '../../controller/src/server.js';
import type { OutcomeCounts } from '../../controller/src/store/fleet-store.js';
import { PgFleetStore } from '../../controller/src/store/pg-fleet-store.js';
import { EmbeddedFleetStore, loadFleetDir } from '../../controller/src/store/embedded-fleet-store.js';
import { importFleet, importPlan } from '../../controller/src/store/pg-import.js';
import { migrate, readMigrations } from '../../controller/src/store/pg-migrations.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';
import { adminJson, buildChange, buildFacts, buildReport, enrollAgent, postReport, tarGzOf } from '../helpers/controller.js';
import { createTestDatabase, postgresMissing, queryDatabase, type TestDatabase } from '../helpers/postgres.js';

interface Ctx {
  db: TestDatabase;
  dir: string;
}

const test = suite<Ctx>('migrate-store', {} as Ctx);
const MAIN = join(process.cwd(), 'controller/src/main.ts');
const ENV = { ...process.env, DUCK_STORE_URL: '', DUCK_ENROLL_TOKEN: '', DUCK_ADMIN_TOKEN: '' };
const skipBecause = await postgresMissing();

test.before.each(async (ctx) => {
  ctx.db = await createTestDatabase('duck_migrate_store');
  ctx.dir = await makeTempDir('duck-migrate-store-');
});
test.after.each(async (ctx) => {
  await ctx.db.drop();
  await removeTempDir(ctx.dir);
});

function migrateStore(dir: string, url: string): ReturnType<typeof run> {
  return run(process.execPath, ['--import', 'tsx', MAIN, 'migrate-store', '--data', dir, '--store', url], { env: ENV, allowFailure: true });
}

/** Everything an operator reads, the summary without the time it was made. */
async function readAll(ctl: { url: string; adminToken: string }, agentIds: string[]): Promise<Record<string, unknown>> {
  const { generatedAt: _, ...fleet } = await adminJson<Record<string, unknown>>(ctl, '/api/v1/fleet');
  const pages = await Promise.all(agentIds.map((id) => adminJson(ctl, `/api/v1/agents/${id}`)));
  const diagnostics = await adminJson<{ diagnostics: { id: string }[] }>(ctl, '/api/v1/diagnostics');
  const bundles = await Promise.all(
    diagnostics.diagnostics.map(async (d) => {
      const res = await fetch(`${ctl.url}/api/v1/diagnostics/${d.id}`, { headers: { authorization: `Bearer ${ctl.adminToken}` } });
      return Buffer.from(await res.arrayBuffer()).toString('base64');
    }),
  );
  return { fleet, agents: await adminJson(ctl, '/api/v1/agents'), pages, diagnostics, bundles };
}

const cases: [string, (ctx: Ctx) => Promise<void>][] = [
  [
    'a fleet built over HTTP on the embedded store is served the same from PostgreSQL after migrate-store; old tokens work, a re-sent report is a duplicate',
    async ({ db, dir }) => {
      const tokens = { enrollToken: `e-${randomBytes(8).toString('hex')}`, adminToken: `a-${randomBytes(8).toString('hex')}` };
      const settings = { dataDir: dir, ...tokens, host: '127.0.0.1', port: 0, alertThreshold: 0.2, alertMinAttempts: 1 };
      const ids = ['mv-1', 'mv-2', 'mv-3'];
      let ctl: RunningController = await startController(settings);
      const admin = { url: ctl.url, adminToken: tokens.adminToken };
      const agentTokens = new Map<string, string>();
      for (const id of ids) agentTokens.set(id, await enrollAgent({ url: ctl.url, ...tokens }, id, buildFacts({ hostname: id, group: id === 'mv-2' ? 'canary' : 'production' })));
      const applied = buildReport('mv-1', { events: [buildChange('shop', '1.0.0', '1.1.0', 'applied'), buildChange('blog', null, '2.0.0', 'applied')] });
      const rolledBack = buildReport('mv-2', { group: 'canary', events: [buildChange('shop', '1.0.0', '1.1.0', 'rolled-back', { reason: 'health check failed' })] });
      for (const report of [applied, rolledBack]) assert.is((await postReport(ctl, agentTokens.get(report.agentId)!, report)).status, 200);
      const release = await fetch(`${ctl.url}/api/v1/agents/mv-3/token`, { method: 'DELETE', headers: { authorization: `Bearer ${tokens.adminToken}` } });
      assert.ok(release.ok, `released mv-3: ${release.status}`);
      const bundle = await tarGzOf({ 'duck-diagnostics/os.txt': 'linux\n' });
      const upload = await fetch(`${ctl.url}/api/v1/diagnostics`, {
        method: 'POST',
        headers: { authorization: `Bearer ${agentTokens.get('mv-1')!}`, 'content-type': 'application/gzip', 'x-duck-filename': 'mv-1.tar.gz' },
        body: bundle,
      });
      assert.is(upload.status, 201);
      // The alert is recorded after the report is answered: wait for it (bounded by the suite, not a speed check).
      while ((await adminJson<{ alerts: unknown[] }>(admin, '/api/v1/fleet')).alerts.length === 0) await new Promise((r) => setTimeout(r, 20));
      const releasedStatus = (await postReport(ctl, agentTokens.get('mv-3')!, buildReport('mv-3'))).status;
      assert.is(releasedStatus, 403);
      const before = await readAll(admin, ids);
      await ctl.close();
      const fleetFile = await readFile(join(dir, 'fleet.json'));

      const moved = await migrateStore(dir, db.url);
      assert.is(moved.code, 0, moved.stderr);
      const out = moved.stdout.toString();
      assert.match(out, /agents +3 \(1 released\)/);
      assert.match(out, /events +3\n/);
      assert.match(out, /outcome rows +3\n/);
      assert.match(out, /failures +1\n/);
      assert.match(out, /alerts +1\n/);
      assert.match(out, /diagnostics +1 /);
      assert.not.match(out, `:${new URL(db.url).password}@`);
      assert.ok(fleetFile.equals(await readFile(join(dir, 'fleet.json'))), 'fleet.json left as it was');

      ctl = await startController({ ...settings, storeUrl: db.url });
      try {
        const after = await readAll({ url: ctl.url, adminToken: tokens.adminToken }, ids);
        assert.equal(after, before);
        const again = await postReport(ctl, agentTokens.get('mv-1')!, applied);
        assert.equal(await again.json(), { accepted: 0, duplicates: 2 }, 'the old token works and the events are known');
        const fresh = await postReport(ctl, agentTokens.get('mv-2')!, buildReport('mv-2', { group: 'canary', events: [buildChange('shop', '1.0.0', '1.1.0', 'applied')] }));
        assert.equal(await fresh.json(), { accepted: 1, duplicates: 0 });
        // The node's verdict on shop 1.1.0 moved too: it counts once, release-failed (worst wins), not again as applied.
        const row = (o: { outcomes: OutcomeCounts[] }): OutcomeCounts | undefined => o.outcomes.find((r) => r.group === 'canary' && r.app === 'shop' && r.version === '1.1.0');
        const counted = row(await adminJson<{ outcomes: OutcomeCounts[] }>({ url: ctl.url, adminToken: tokens.adminToken }, '/api/v1/fleet'));
        assert.equal(counted?.nodes, { applied: 0, releaseFailed: 1, infrastructureFailed: 0 });
        assert.is(counted?.applied, 1, 'the attempt itself counts');
        assert.is((await postReport(ctl, agentTokens.get('mv-3')!, buildReport('mv-3'))).status, releasedStatus, 'a released token stays released');
        const rows = await queryDatabase<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM events');
        assert.equal(rows, [{ n: 4 }]);
      } finally {
        await ctl.close();
      }
    },
  ],
  [
    'migrate-store refuses a database that holds a fleet and a directory without fleet.json; a move that fails leaves nothing behind',
    async ({ db, dir }) => {
      const store = await EmbeddedFleetStore.open(dir);
      await store.register('r-1', buildFacts(), 'hash-r-1', new Date());
      await store.recordReport(buildReport('r-1', { events: [buildChange('shop', '1', '2', 'applied')] }), new Date());
      await store.close();

      // A controller still on the embedded store writes while the copy runs: the move rolls back.
      const file = join(dir, 'fleet.json');
      const unchanged = await sourceGuard(file, dir);
      const plan = importPlan((await loadFleetDir(dir)).data.file);
      const running = await EmbeddedFleetStore.open(dir);
      await running.register('r-2', buildFacts(), 'hash-r-2', new Date());
      await running.close();
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await migrate(client, await readMigrations());
        const failed = await importFleet(client, plan, unchanged).then(
          () => null,
          (e: Error) => e,
        );
        assert.instance(failed, SourceChangedError);
        assert.match(failed?.message ?? '', `${file} changed while it was copied: a controller is still serving on ${dir}`);
      } finally {
        await client.end();
      }
      assert.equal(await queryDatabase(db.url, 'SELECT agent_id FROM agents UNION ALL SELECT event_id FROM events'), [], 'nothing moved');

      assert.is((await migrateStore(dir, db.url)).code, 0);
      const twice = await migrateStore(dir, db.url);
      assert.is(twice.code, 1);
      assert.match(twice.stderr, `${new URL(db.url).host}/${db.name}: the database already holds a fleet (2 agents, 1 outcomes): move into an empty one`);
      assert.equal(await queryDatabase(db.url, 'SELECT count(*)::int AS n FROM events'), [{ n: 1 }], 'the second move added nothing');

      const empty = await makeTempDir('duck-migrate-store-empty-');
      try {
        const none = await migrateStore(empty, db.url);
        assert.is(none.code, 1);
        assert.match(none.stderr, `${join(empty, 'fleet.json')}: no such file`);
      } finally {
        await removeTempDir(empty);
      }
      const noStore = await run(process.execPath, ['--import', 'tsx', MAIN, 'migrate-store', '--data', dir], { env: ENV, allowFailure: true });
      assert.is(noStore.code, 2);
      assert.match(noStore.stderr, 'the database is missing');
    },
  ],
  [
    'every read of the store answers the same after the move, for a fleet larger than one insert statement carries',
    async ({ db, dir }) => {
      const embedded = await EmbeddedFleetStore.open(dir);
      const ids = ['big-1', 'big-2', 'big-3', 'released'];
      const at = (minute: number): Date => new Date(Date.UTC(2026, 10, 1, 0, minute));
      for (const id of ids) await embedded.register(id, buildFacts({ hostname: id }), `hash-${id}`, at(0));
      await embedded.releaseEnrollment('released');
      // 3 × 2,000 events: more than one statement's rows, each agent's in receive order.
      for (let round = 0; round < 4; round++) {
        for (const id of ids.slice(0, 3)) {
          const events = Array.from({ length: 500 }, (_, i) =>
            buildChange('shop', `1.${round}.${i}`, `1.${round}.${i + 1}`, i % 100 === 0 ? 'rolled-back' : 'applied', { reason: 'probe failed' }),
          );
          await embedded.recordReport(buildReport(id, { events }), at(round + 1));
        }
      }
      // Half the fleet compacted (events lines, counts in fleet.json), the rest still report lines in the log.
      await embedded.compact();
      for (const id of ids.slice(0, 3)) await embedded.recordReport(buildReport(id, { events: [buildChange('shop', '1.4.0', '1.4.1', 'applied')] }), at(5));
      await embedded.recordAlert({ group: 'production', app: 'shop', version: '1.0.1', rate: 1, attempts: 3, failures: 3, at: at(9).toISOString() });
      await embedded.addDiagnostic({ id: 'd-1', agentId: 'big-2', filename: 'big-2.tar.gz', bytes: 10, sha256: 'a'.repeat(64), receivedAt: at(9).toISOString() });
      const reads = async (store: EmbeddedFleetStore | PgFleetStore): Promise<unknown> => ({
        // The embedded store answers its own entries (events and verdicts inside); the record is what the contract promises.
        agents: (await store.listAgents()).map(({ agentId, tokenHash, facts, enrolledAt, lastSeenAt, status, lastOutcomes }) => ({
          agentId,
          tokenHash,
          facts,
          enrolledAt,
          lastSeenAt,
          status,
          lastOutcomes,
        })),
        each: await Promise.all(ids.map((id) => store.getAgent(id))),
        events: await Promise.all(ids.map((id) => store.events(id, 5_000))),
        tokens: await Promise.all(ids.map((id) => store.agentIdForTokenHash(`hash-${id}`))),
        outcomes: (await store.outcomes()).sort((a, b) => a.version.localeCompare(b.version, 'en', { numeric: true })),
        failures: await store.recentFailures(100),
        alerts: await store.alerts(),
        diagnostics: await store.diagnostics(),
      });
      const before = JSON.parse(JSON.stringify(await reads(embedded))) as Record<string, unknown>;
      await embedded.close();

      const moved = await migrateStore(dir, db.url);
      assert.is(moved.code, 0, moved.stderr);
      assert.match(moved.stdout.toString(), /agents +4 \(1 released\)\n {2}events +6000\n/);
      const pgStore = await PgFleetStore.open(db.url);
      try {
        const after = JSON.parse(JSON.stringify(await reads(pgStore))) as Record<string, unknown>;
        // Part by part, key order aside (jsonb orders keys its own way): a diff of the whole would take minutes to print.
        const canonical = (v: unknown): string => JSON.stringify(v, (_, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x));
        for (const part of Object.keys(before)) assert.ok(canonical(after[part]) === canonical(before[part]), `${part} reads the same`);
        assert.equal(await queryDatabase(db.url, 'SELECT agent_id, event_count FROM agents ORDER BY agent_id'), [
          { agent_id: 'big-1', event_count: 2000 },
          { agent_id: 'big-2', event_count: 2000 },
          { agent_id: 'big-3', event_count: 2000 },
          { agent_id: 'released', event_count: 0 },
        ]);
      } finally {
        await pgStore.close();
      }
    },
  ],
];

if (skipBecause) console.log(`\n  migrate-store: skipped: ${skipBecause} (set CI=true to make this fatal)`);
for (const [name, body] of cases) (skipBecause ? test.skip : test)(name, body);
test.run();
