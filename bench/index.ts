// `npm run bench`: every benchmark group, each printed as a table of medians beside a baseline
// measured in the same run (native git, compose alone, cp -a...). Timings are printed, never
// asserted: they depend on the machine. A group checks only that it measured what it claims (the
// fetch happened, the tip was accepted, the served version flipped, the backup holds every byte).
import { benchApplyDowntime } from './apply-downtime.js';
import { benchArtifactMemory, benchArtifactStartup } from './artifact-forms.js';
import { benchBackupCopy } from './backup-copy.js';
import { benchChannelFetch } from './channel-fetch.js';
import { benchLargeRelease } from './channel-large-release.js';
import { benchChannelMemory } from './channel-memory.js';
import { benchCliStartup } from './cli-startup.js';
import { benchControllerReports } from './controller-reports.js';
import { benchDaemonMemory, benchDaemonPoll } from './daemon-idle.js';
import { benchSelfUpdate } from './self-update.js';
import { benchSignatureVerify } from './signature-verify.js';
import { numberFlag, shapeFromArgs } from './generate-channel.js';

/** One timed run; with what the git server logged for it when the group measures transfer. */
export interface Sample {
  ms: number;
  requests?: number;
  bytes?: number;
}

export interface Comparison {
  label: string;
  duck: Sample[];
  /** The baseline's runs: native git unless the report names another baseline. */
  git: Sample[];
  /** What the baseline ran for the same work. */
  gitCommand: string;
  /** Set when the duck side could not be measured (the agent refused or failed). */
  error?: string;
  /** 'count': the samples' `ms` holds a count (failed requests), not a time; 'bytes': a size. */
  unit?: 'count' | 'bytes';
}

export interface BenchReport {
  title: string;
  /** The baseline column's name; 'git' when unset. */
  baseline?: string;
  /** What a sample's `ms` holds when it is not a time: the group measures memory in MiB. */
  unit?: 'MiB';
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
  return `${median(samples.map((s) => s.requests ?? 0))} req ${formatBytes(median(samples.map((s) => s.bytes ?? 0)))}`;
}

function formatReport(report: BenchReport): string {
  const baseline = report.baseline ?? 'git';
  // Transfer columns only for groups whose samples carry what a server logged.
  const transfers = report.rows.some((row) => [...row.duck, ...row.git].some((s) => s.requests !== undefined));
  const header = ['', 'duck', baseline, 'ratio', ...(transfers ? ['duck transfer', `${baseline} transfer`] : [])];
  const lines = report.rows.map((row) => {
    const format =
      row.unit === 'count' ? (n: number): string => n.toFixed(0) : row.unit === 'bytes' ? formatBytes : report.unit === 'MiB' ? (mib: number): string => `${mib.toFixed(0)} MiB` : formatMs;
    const duck = row.duck.length > 0 ? median(row.duck.map((s) => s.ms)) : null;
    const git = median(row.git.map((s) => s.ms));
    const runs = Math.max(row.duck.length, row.git.length);
    return [
      `${row.label} (n=${runs})`,
      duck === null ? 'failed' : format(duck),
      format(git),
      duck === null ? '-' : `${(duck / git).toFixed(2)}x`,
      ...(transfers ? [transfer(row.duck), transfer(row.git)] : []),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ').trimEnd();
  const out = [report.title, render(header), ...lines.map(render)];
  for (const row of report.rows) {
    out.push(`  ${baseline} for "${row.label}": ${row.gitCommand}`);
    if (row.error) out.push(`  duck failed on "${row.label}": ${row.error}`);
  }
  out.push(...report.notes.map((n) => `  ${n}`));
  return out.join('\n');
}

const args = process.argv.slice(2);
const shape = shapeFromArgs(args);
const check = args.includes('--check');
const GROUPS: BenchGroup[] = [
  { name: 'channel-fetch', run: () => benchChannelFetch({ shape, check }) },
  { name: 'channel-large-release', run: () => benchLargeRelease({ files: numberFlag(args, '--files', 2000) }) },
  { name: 'channel-memory', run: () => benchChannelMemory() },
  { name: 'apply-downtime', run: () => benchApplyDowntime() },
  { name: 'backup-copy', run: () => benchBackupCopy() },
  { name: 'controller-reports', run: () => benchControllerReports() },
  { name: 'cli-startup', run: () => benchCliStartup() },
  { name: 'daemon-idle', run: () => benchDaemonPoll() },
  { name: 'artifact-forms', run: () => benchArtifactStartup() },
  { name: 'artifact-memory', run: () => benchArtifactMemory() },
  { name: 'self-update', run: () => benchSelfUpdate() },
  { name: 'signature-verify', run: () => benchSignatureVerify() },
  {
    name: 'daemon-memory',
    run: () =>
      benchDaemonMemory({
        memoryPolls: args.includes('--memory-polls') ? numberFlag(args, '--memory-polls', 1) : undefined,
        memorySeconds: numberFlag(args, '--memory-seconds', 120),
        memoryGroups: args.includes('--memory-group') ? [args[args.indexOf('--memory-group') + 1]!] : undefined,
      }),
  },
];

// `--only channel-memory` runs one group (apply-downtime needs the engine to itself).
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
let failed = false;
for (const group of GROUPS.filter((g) => only === undefined || g.name === only)) {
  try {
    console.log(`\n${formatReport(await group.run())}\n`);
  } catch (err) {
    failed = true;
    console.error(`bench ${group.name} failed:`, err);
  }
}
process.exitCode = failed ? 1 : 0;
