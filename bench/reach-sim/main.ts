// `npm run reach-sim`: the load 100,000 nodes put on their git host, with and without the tip
// pointer (issue 17 §4, README "Reach: polling a large fleet"). First a real agent's polls against
// the loopback git server calibrate what one request costs (requests seen by the server, bytes
// sent); then the deterministic simulation (model.ts) runs each scenario. `--no-calibrate` skips the
// real run and uses the costs below (measured by it once). Not part of `npm test`.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { AgentNode } from '../../examples/harness/agent-node.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { startChannelHost } from '../../test/helpers/channel-builder.js';
import { publishBasicChannel, writeGroup } from '../../test/helpers/channel-fixtures.js';
import { startFileServer } from '../../test/helpers/file-server.js';
import type { Figures, RequestCosts, Scenario } from './model.js';
import { simulate } from './model.js';

/** What `npm run reach-sim` measured against the loopback git server (see calibrate()). */
const MEASURED: RequestCosts = { refBytes: 366, packBytes: 1128, throttledBytes: 60, pointerBytes: 41 };

const NODES = 100_000;
const MIN = 60_000;
const HOUR = 60 * MIN;
const base = { nodes: NODES, intervalMs: MIN, durationMs: 3 * HOUR, seed: 17 };
// A release an hour, at a minute that is on no node's grid in particular.
const hourly = [HOUR / 2 + 7_000, HOUR + HOUR / 2 + 7_000, 2 * HOUR + HOUR / 2 + 7_000];
// A burst: six releases two minutes apart (a bad release and its fixes), inside the hourly ones.
const burst = [...hourly, ...Array.from({ length: 6 }, (_, i) => HOUR + 10 * MIN + i * 2 * MIN)].sort((a, b) => a - b);

export const SCENARIOS: readonly Scenario[] = [
  { ...base, name: 'no pointer, a release an hour', pointer: false, releasesAt: hourly },
  { ...base, name: 'pointer, a release an hour', pointer: true, releasesAt: hourly },
  { ...base, name: 'pointer, a burst of 6 releases in 12 min', pointer: true, releasesAt: burst },
  { ...base, name: 'pointer down 30 min (falls back to git)', pointer: true, releasesAt: hourly, pointerDown: { fromMs: HOUR, toMs: HOUR + 30 * MIN } },
  { ...base, name: 'pointer, no release', pointer: true, releasesAt: [] },
  // No release in these: what moves is the throttle's doing.
  { ...base, name: 'no pointer, no release, git host 429 for 1 min (Retry-After: 60)', pointer: false, releasesAt: [], throttle: { fromMs: HOUR, toMs: HOUR + MIN, retryAfter: '60' } },
  { ...base, name: 'no pointer, no release, git host 429 for 10 min (Retry-After: 300)', pointer: false, releasesAt: [], throttle: { fromMs: HOUR, toMs: HOUR + 10 * MIN, retryAfter: '300' } },
  { ...base, name: 'no pointer, no release, git host 429 for 10 min (no Retry-After)', pointer: false, releasesAt: [], throttle: { fromMs: HOUR, toMs: HOUR + 10 * MIN } },
  { ...base, name: 'pointer, no release, git host 429 for 10 min (no Retry-After)', pointer: true, releasesAt: [], throttle: { fromMs: HOUR, toMs: HOUR + 10 * MIN } },
];

const progress = (message: string): void => void process.stderr.write(`[reach-sim] ${message}\n`);

interface Calibration {
  readonly costs: RequestCosts;
  /** Requests the git server saw for one poll that found nothing new, without and with the pointer. */
  readonly unchangedWithout: number;
  readonly unchangedWith: number;
  /** Requests for one poll after the tip moved, with the pointer. */
  readonly movedWith: number;
}

/** A real agent (`duck verify`, the dist build) against the real git server and a pointer file. */
async function calibrate(): Promise<Calibration> {
  const host = await startChannelHost('duck-reach-');
  const filesRoot = await makeTempDir('duck-reach-files-');
  const files = await startFileServer({ root: filesRoot });
  try {
    const { ch, name, node } = await host.fresh();
    const gitSeen = () => host.server.requests.filter((r) => r.path.startsWith(`/${name}.git/`));
    const check = async (n: AgentNode): Promise<void> => {
      const r = await n.duck('verify', '--json', '--allow-reset');
      if (r.code !== 0) throw new Error(`duck verify failed: ${r.stderr}`);
    };
    const first = await publishBasicChannel(ch, host.rootKey);
    await check(node);
    host.server.resetLog();
    await check(node);
    const unchanged = gitSeen();
    const refBytes = unchanged.find((r) => r.method === 'GET')?.bytesOut ?? 0;

    await mkdir(join(filesRoot, 'tips'), { recursive: true });
    await writeFile(join(filesRoot, 'tips/tip'), `${first}\n`);
    const config = parse(await readFile(node.configFile, 'utf8')) as { channel: Record<string, unknown> };
    config.channel.pointer = files.url('tips/tip');
    await writeFile(node.configFile, stringify(config));
    host.server.resetLog();
    await check(node);
    const unchangedWith = gitSeen().length;

    await writeGroup(ch, 'production', { shop: '1.0.0' }, { urgent: true });
    const second = await ch.commit('a release', host.rootKey);
    await ch.publish();
    await writeFile(join(filesRoot, 'tips/tip'), `${second}\n`);
    host.server.resetLog();
    await check(node);
    const moved = gitSeen();
    const packBytes = moved.find((r) => r.method === 'POST')?.bytesOut ?? 0;
    const pointerBytes = files.requestsFor('tips/tip').at(-1)?.bytesOut ?? 0;
    return { costs: { refBytes, packBytes, throttledBytes: MEASURED.throttledBytes, pointerBytes }, unchangedWithout: unchanged.length, unchangedWith, movedWith: moved.length };
  } finally {
    await files.close();
    await host.close();
    await removeTempDir(filesRoot);
  }
}

const fixed = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(rows: readonly Figures[]): string {
  const head = '| scenario | git req/s (mean) | busiest second | busiest minute | git bytes/s (mean) | git bytes (3 h) | pointer req/s (CDN) | up to date at the end |';
  const line = '|---|---:|---:|---:|---:|---:|---:|---:|';
  const body = rows.map(
    (f) =>
      `| ${f.scenario} | ${fixed(f.gitMeanPerSecond, 1)} | ${fixed(f.gitPeakSecond)} | ${fixed(f.gitPeakMinute)} | ${fixed(f.gitMeanBytesPerSecond)} | ${fixed(f.gitBytes)} | ${fixed(f.pointerMeanPerSecond, 1)} | ${fixed(f.upToDate)} |`,
  );
  return [head, line, ...body].join('\n');
}

function throttleTable(rows: readonly Figures[]): string {
  const head = '| scenario | git req/s while it answers 429 | busiest minute of the hour after |';
  const body = rows.flatMap((f) => (f.throttled ? [`| ${f.scenario} | ${fixed(f.throttled.meanPerSecond, 1)} | ${fixed(f.throttled.peakMinuteAfter)} |`] : []));
  return [head, '|---|---:|---:|', ...body].join('\n');
}

async function main(): Promise<void> {
  const calibrated = !process.argv.includes('--no-calibrate');
  let costs = MEASURED;
  if (calibrated) {
    progress('calibrating against a real agent and the loopback git server');
    const c = await calibrate();
    costs = { ...MEASURED, refBytes: c.costs.refBytes, packBytes: c.costs.packBytes, pointerBytes: c.costs.pointerBytes };
    console.log(`Calibration (a real duck verify against the loopback git server):`);
    console.log(`- a poll that finds nothing new: ${c.unchangedWithout} git request(s) without the pointer, ${c.unchangedWith} with it`);
    console.log(`- a poll after the tip moved, with the pointer: ${c.movedWith} git requests (ref advertisement, pack)`);
    console.log(`- bytes: ref advertisement ${c.costs.refBytes}, pack of one release ${c.costs.packBytes}, pointer ${c.costs.pointerBytes}\n`);
  }
  const rows: Figures[] = [];
  for (const s of SCENARIOS) {
    progress(s.name);
    rows.push(simulate(s, costs));
  }
  console.log(`${fixed(NODES)} nodes polling every ${MIN / 1000} s for 3 simulated hours (seed ${base.seed}); a release at 0:30, 1:30, 2:30:\n`);
  console.log(table(rows));
  console.log('\nThe throttled scenarios (429 from 1:00):\n');
  console.log(throttleTable(rows));
}

await main();
