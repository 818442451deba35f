// Start-up cost of the CLI as a process (issue 13): `duck --help`, `duck status` on a node that has
// accepted a channel, `duck check` against that channel on the loopback git server, each against
// `node -e 0` measured in the same run; and `duck verify` after one new signed commit against
// native git doing the same work (`git fetch` of the commit, then `git verify-commit` of it, GnuPG).
// Wall and CPU (user + system) come from `/usr/bin/time`, which reads the child's rusage, so the
// figures hold the process alone, not this runner.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DUCK_BIN } from '../examples/harness/agent-node.js';
import { makeVerifierHome, stopGpgAgent } from '../examples/harness/keys.js';
import { removeTempDir, run } from '../examples/harness/tmp.js';
import { isolatedGitEnv, startChannelHost } from '../test/helpers/channel-builder.js';
import { publishBasicChannel } from '../test/helpers/channel-fixtures.js';
// Types only: index.ts runs the benchmarks when loaded, so a value import here would be a cycle.
import type { BenchReport, Comparison, Sample } from './index.js';

const RUNS = 9;
const VERIFY_RUNS = 5;
// The bin (DUCK_BIN) is the esbuild bundle; the tsc output it is made from is measured beside it.
const TSC_BIN = fileURLToPath(new URL('../dist/agent/src/main.js', import.meta.url));
const BINS = [
  { suffix: '', bin: DUCK_BIN },
  { suffix: ' (tsc output)', bin: TSC_BIN },
];
const TIME = '/usr/bin/time';
const progress = (message: string): void => void process.stderr.write(`[cli-startup] ${message}\n`);

export interface Timing {
  wall: Sample;
  cpu: Sample;
  /** The process's peak RSS (MiB). */
  maxRss: number;
}

export async function benchCliStartup(): Promise<BenchReport> {
  const host = await startChannelHost('duck-bench-startup-');
  const verifier = await makeVerifierHome([host.rootKey]);
  try {
    const { ch, url } = await host.channel('startup');
    await publishBasicChannel(ch, host.rootKey);
    const node = await host.node(url);
    // status reads what verify accepted; check then finds the tip unchanged, as a routine check does.
    const verified = await node.duck('verify');
    if (verified.code !== 0) throw new Error(`duck verify exited ${verified.code}: ${verified.stderr}`);
    const config = ['--config', node.configFile];
    const commands = BINS.flatMap(({ suffix, bin }) => [
      { label: `duck --help${suffix}`, args: [bin, '--help'] },
      { label: `duck status${suffix}`, args: [bin, 'status', ...config] },
      { label: `duck check${suffix}`, args: [bin, 'check', ...config] },
    ]);
    const baseline: Timing[] = [];
    const duck = new Map<string, Timing[]>(commands.map((c) => [c.label, []]));
    for (let i = 0; i < RUNS; i++) {
      progress(`run ${i + 1}/${RUNS}`);
      // Interleaved, so a burst of load on the shared machine hits the baseline and duck alike.
      baseline.push(await timed(process.execPath, ['-e', '0'], node.dir));
      for (const c of commands) duck.get(c.label)!.push(await timed(process.execPath, c.args, node.dir));
    }
    const rows: Comparison[] = commands.flatMap((c) => bothRows(c.label, duck.get(c.label)!, baseline, 'node -e 0'));

    // duck verify after one new commit: native git keeps its own bare clone of the channel, and
    // fetches and verifies each new commit as duck does; each bin verifies a commit of its own.
    const gitClone = join(host.root, 'git-clone.git');
    const gitEnv = isolatedGitEnv({ GNUPGHOME: verifier });
    await run('git', ['clone', '--bare', '--quiet', url, gitClone], { env: gitEnv });
    const gitSide: Timing[] = [];
    const verifyRows = new Map<string, Timing[]>(BINS.map((b) => [b.suffix, []]));
    for (let i = 0; i < VERIFY_RUNS; i++) {
      progress(`verify after one new commit, run ${i + 1}/${VERIFY_RUNS}`);
      for (const { suffix, bin } of BINS) {
        const commit = await ch.commit(`bench commit ${i}${suffix}`, host.rootKey);
        await ch.publish();
        const fetch = await timed('git', ['-C', gitClone, 'fetch', '--quiet', url, '+refs/heads/main:refs/heads/main'], host.root, gitEnv);
        const check = await timed('git', ['-C', gitClone, 'verify-commit', commit], host.root, gitEnv);
        gitSide.push({ wall: { ms: fetch.wall.ms + check.wall.ms }, cpu: { ms: fetch.cpu.ms + check.cpu.ms }, maxRss: Math.max(fetch.maxRss, check.maxRss) });
        const verify = await timed(process.execPath, [bin, 'verify', ...config], node.dir);
        // The figure counts only when duck did the work: the new commit fetched and accepted.
        if (!verify.stdout.includes(`accepted ${commit.slice(0, 12)} (new)`)) throw new Error(`duck verify did not accept ${commit}: ${verify.stdout}`);
        verifyRows.get(suffix)!.push(verify);
      }
    }
    for (const { suffix } of BINS) rows.push(...bothRows(`duck verify after 1 new commit${suffix}`, verifyRows.get(suffix)!, gitSide, 'git fetch + git verify-commit'));
    return {
      title: 'cli-startup: the CLI as a process (targets: --help 1.5x, status 2x, check 3x of node -e 0; verify after 1 commit 1.5x of git fetch + verify-commit)',
      baseline: 'baseline',
      rows,
      notes: [
        `Each run: node -e 0, then every command once (interleaved), ${RUNS} runs; wall and user+system CPU from ${TIME} (the child's rusage).`,
        `The bin is the esbuild bundle (${DUCK_BIN}); "(tsc output)" is the same CLI as tsc emits it, one module per file.`,
        'duck check fetches from the loopback git server (tip unchanged after a first verify); status reads the accepted state.',
        `verify after 1 new commit: ${VERIFY_RUNS} runs per bin, each on a commit of its own signed by openpgp.js (ed25519) and pushed; ` +
          'the baseline is git fetch into a bare clone plus git verify-commit (GnuPG) of that commit, wall and CPU summed.',
      ],
    };
  } finally {
    await stopGpgAgent(verifier);
    await removeTempDir(verifier);
    await host.close();
  }
}

export function bothRows(label: string, duck: readonly Timing[], baseline: readonly Timing[], baselineCommand: string): Comparison[] {
  return [
    { label: `${label}, wall`, duck: duck.map((t) => t.wall), git: baseline.map((t) => t.wall), gitCommand: baselineCommand },
    { label: `${label}, cpu`, duck: duck.map((t) => t.cpu), git: baseline.map((t) => t.cpu), gitCommand: `${baselineCommand} (user + system)` },
  ];
}

/** Wall and CPU of `command ...args`, with its output, as /usr/bin/time reports them; throws when the command fails. */
export async function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Timing & { stdout: string }> {
  const r = await run(TIME, ['-f', '@@time %e %U %S %M', command, ...args], { cwd, env, allowFailure: true });
  const stderr = r.stderr;
  const match = /@@time (\S+) (\S+) (\S+) (\S+)/.exec(stderr);
  if (r.code !== 0 || !match) throw new Error(`${command} ${args.join(' ')} exited ${r.code}: ${stderr.slice(-400)}`);
  const [wall, user, system, maxKb] = match.slice(1).map(Number) as [number, number, number, number];
  return { wall: { ms: wall * 1000 }, cpu: { ms: (user + system) * 1000 }, maxRss: maxKb / 1024, stdout: r.stdout.toString('utf8') };
}
