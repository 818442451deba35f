// `npm run bench`: every benchmark group, each printed as a table of medians beside native git.
// Timings are printed, never asserted: they depend on the machine. A group checks only that it
// measured what it claims (the fetch happened, the tip was accepted).
import { benchChannelFetch } from './channel-fetch.js';
import { shapeFromArgs } from './generate-channel.js';

/** One timed run, with what the git server logged for it. */
export interface Sample {
  ms: number;
  requests: number;
  bytes: number;
}

export interface Comparison {
  label: string;
  duck: Sample[];
  git: Sample[];
  /** What native git ran for the same fetch. */
  gitCommand: string;
  /** Set when the duck side could not be measured (the agent refused or failed). */
  error?: string;
}

export interface BenchReport {
  title: string;
  rows: Comparison[];
  notes: string[];
}

export interface BenchGroup {
  name: string;
  run(): Promise<BenchReport>;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
}

function transfer(samples: readonly Sample[]): string {
  if (samples.length === 0) return '-';
  return `${median(samples.map((s) => s.requests))} req ${formatBytes(median(samples.map((s) => s.bytes)))}`;
}

function formatReport(report: BenchReport): string {
  const header = ['', 'duck', 'git', 'ratio', 'duck transfer', 'git transfer'];
  const lines = report.rows.map((row) => {
    const duck = row.duck.length > 0 ? median(row.duck.map((s) => s.ms)) : null;
    const git = median(row.git.map((s) => s.ms));
    const runs = Math.max(row.duck.length, row.git.length);
    return [
      `${row.label} (n=${runs})`,
      duck === null ? 'failed' : formatMs(duck),
      formatMs(git),
      duck === null ? '-' : `${(duck / git).toFixed(2)}x`,
      transfer(row.duck),
      transfer(row.git),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ').trimEnd();
  const out = [report.title, render(header), ...lines.map(render)];
  for (const row of report.rows) {
    out.push(`  git for "${row.label}": ${row.gitCommand}`);
    if (row.error) out.push(`  duck failed on "${row.label}": ${row.error}`);
  }
  out.push(...report.notes.map((n) => `  ${n}`));
  return out.join('\n');
}

const args = process.argv.slice(2);
const shape = shapeFromArgs(args);
const check = args.includes('--check');
const GROUPS: BenchGroup[] = [{ name: 'channel-fetch', run: () => benchChannelFetch({ shape, check }) }];

let failed = false;
for (const group of GROUPS) {
  try {
    console.log(`\n${formatReport(await group.run())}\n`);
  } catch (err) {
    failed = true;
    console.error(`bench ${group.name} failed:`, err);
  }
}
process.exitCode = failed ? 1 : 0;
