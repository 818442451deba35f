// `npm run fleet-sim` with a tiny fleet (20 agents, a report every 2 s, 6 s a side): it prints its
// figures beside the bare Koa baseline, writes the per-second CSV for both sides, and the
// controllers really received the reports (read back from the store it kept with --keep). The
// simulated reports are checked against the report schema. No figure is asserted: they are the
// machine's. Needs the build (dist/), as `npm run test:integration` makes it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeAgent, nextReport, type TurnKind } from '../helpers/fleet-model.js';
import { EmbeddedFleetStore } from '../../controller/src/store/embedded-fleet-store.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';
import { validateValue } from '../../schemas/index.js';
import { createTestDatabase, postgresMissing, queryDatabase } from '../helpers/postgres.js';

const test = suite('fleet-sim');
const MAIN = join(process.cwd(), 'bench/fleet-sim/main.ts');
const TINY = ['--agents', '20', '--interval', '2s', '--duration', '6s'];
const ROWS = ['reports/s (offered 10.0/s)', 'p50 latency', 'p99 latency', 'errors', 'turns not sent by the end (of 60)', 'peak RSS', 'store size', 'GET /api/v1/agents, first page', 'GET /api/v1/fleet, the first request', 'GET /api/v1/fleet (the summary)'];

function sim(args: string[]): ReturnType<typeof run> {
  return run(process.execPath, ['--import', 'tsx', MAIN, ...args], { allowFailure: true });
}

/** The printed rows (label → [duck, bare]) and the CSV's rows by target. */
async function readRun(stdout: string, csvFile: string): Promise<{ rows: Map<string, string[]>; csv: Map<string, string[][]> }> {
  const rows = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const label = ROWS.find((r) => line.startsWith(r));
    if (label) rows.set(label, line.slice(label.length).trim().split(/\s{2,}/));
  }
  const [header, ...lines] = (await readFile(csvFile, 'utf8')).trim().split('\n');
  assert.is(header, 'target,second,reports,errors,p50_ms,p99_ms,max_lag_ms,rss_mib');
  const csv = new Map<string, string[][]>();
  for (const line of lines) {
    const cells = line.split(',');
    csv.set(cells[0]!, [...(csv.get(cells[0]!) ?? []), cells]);
  }
  return { rows, csv };
}

function assertPrinted(stdout: string, rows: Map<string, string[]>, csv: Map<string, string[][]>): void {
  for (const label of ROWS) assert.ok(rows.has(label), `the row "${label}" is printed:\n${stdout}`);
  assert.is(rows.get('errors')![0], '0', 'the controller answered every report');
  assert.ok([...csv.keys()].sort().join() === 'bare-koa,duck', `the CSV has rows for both sides: ${[...csv.keys()]}`);
  const reported = (target: string): number => csv.get(target)!.reduce((sum, cells) => sum + Number(cells[2]), 0);
  // 20 agents at 2 s for 6 s: three turns each, less any a loaded machine could not send in time.
  const [duckMissed, bareMissed] = rows.get('turns not sent by the end (of 60)')!.map(Number);
  assert.is(reported('duck'), 60 - duckMissed!);
  assert.is(reported('bare-koa'), 60 - bareMissed!);
  assert.ok(reported('duck') >= 20, 'every agent reported at least once');
}

test('the simulated reports are valid reports, and every kind of turn occurs', () => {
  const kinds = new Set<TurnKind>();
  for (let i = 0; i < 200; i++) {
    const agent = makeAgent(i, 'schema');
    for (let round = 0; round < 20; round++) {
      const { report, kind } = nextReport(agent, round, new Date());
      kinds.add(kind);
      validateValue('report', report, `fleet-sim agent ${i} round ${round}`);
    }
  }
  assert.equal([...kinds].sort(), ['heartbeat', 'infraFailure', 'refusal', 'rollback', 'upgrade', 'windowWait']);
});

test('--instances above one without a PostgreSQL store is refused by name', async () => {
  const result = await sim([...TINY, '--instances', '2']);
  assert.is(result.code, 2);
  assert.match(result.stderr, '--instances: more than one controller needs --store postgres://');
});

test('a tiny fleet on the embedded store: figures beside bare Koa, a CSV for both, and the reports in the store', async () => {
  const dir = await makeTempDir('duck-fleet-sim-test-');
  try {
    const csvFile = join(dir, 'run.csv');
    const result = await sim([...TINY, '--csv', csvFile, '--keep', join(dir, 'work')]);
    const stdout = result.stdout.toString();
    assert.is(result.code, 0, result.stderr);
    const { rows, csv } = await readRun(stdout, csvFile);
    assertPrinted(stdout, rows, csv);
    const store = await EmbeddedFleetStore.open(join(dir, 'work', 'controller-0'));
    try {
      const page = await store.listAgentsPage(null, 100);
      assert.is(page.total, 20);
      assert.ok(page.agents.every((a) => a.lastSeenAt !== null && a.status !== null), 'every agent reported');
    } finally {
      await store.close();
    }
  } finally {
    await removeTempDir(dir);
  }
});

test('a tiny fleet on PostgreSQL across two instances: both received reports, every agent seen', async () => {
  const missing = await postgresMissing();
  if (missing !== null) {
    console.log(`  skipped: ${missing}`);
    return;
  }
  const dir = await makeTempDir('duck-fleet-sim-test-');
  const db = await createTestDatabase('duck_fleet_sim');
  try {
    const csvFile = join(dir, 'run.csv');
    const result = await sim([...TINY, '--store', db.url, '--instances', '2', '--summary-max-age', '5s', '--csv', csvFile]);
    const stdout = result.stdout.toString();
    assert.is(result.code, 0, result.stderr);
    const { rows, csv } = await readRun(stdout, csvFile);
    assertPrinted(stdout, rows, csv);
    assert.ok(stdout.includes('summary max age 5s'), 'the controllers were started with --summary-max-age 5s');
    const seen = await queryDatabase<{ agents: number; seen: number }>(db.url, 'SELECT count(*)::int AS agents, count(last_seen_at)::int AS seen FROM agents');
    assert.equal(seen, [{ agents: 20, seen: 20 }]);
  } finally {
    await db.drop();
    await removeTempDir(dir);
  }
});

test.run();
