// Start-up cost of the CLI as a process (issue 13): `duck --help`, `duck status` on a node that has
// accepted a channel, `duck check` against that channel on the loopback git server, each against
// `node -e 0` measured in the same run. Wall and CPU (user + system) come from `/usr/bin/time`,
// which reads the child's rusage, so the figures hold the process alone, not this runner.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DUCK_BIN } from '../examples/harness/agent-node.js';
import { startChannelHost } from '../test/helpers/channel-builder.js';
import { publishBasicChannel } from '../test/helpers/channel-fixtures.js';
// Types only: index.ts runs the benchmarks when loaded, so a value import here would be a cycle.
import type { BenchReport, Comparison, Sample } from './index.js';

const RUNS = 9;
// The CLI as an esbuild bundle (`npm run bundle`: split, so each command's code loads with it),
// measured beside the tsc output when present.
const BUNDLE = fileURLToPath(new URL('../dist/agent/bundle/main.mjs', import.meta.url));
const TIME = '/usr/bin/time';
const progress = (message: string): void => void process.stderr.write(`[cli-startup] ${message}\n`);

interface Timing {
  wall: Sample;
  cpu: Sample;
}

export async function benchCliStartup(): Promise<BenchReport> {
  const host = await startChannelHost('duck-bench-startup-');
  try {
    const { ch, url } = await host.channel('startup');
    await publishBasicChannel(ch, host.rootKey);
    const node = await host.node(url);
    // status reads what verify accepted; check then finds the tip unchanged, as a routine check does.
    const verified = await node.duck('verify');
    if (verified.code !== 0) throw new Error(`duck verify exited ${verified.code}: ${verified.stderr}`);
    const config = ['--config', node.configFile];
    const bins = existsSync(BUNDLE) ? [{ suffix: '', bin: DUCK_BIN }, { suffix: ' (bundle)', bin: BUNDLE }] : [{ suffix: '', bin: DUCK_BIN }];
    const commands = bins.flatMap(({ suffix, bin }) => [
      { label: `duck --help${suffix}`, args: [bin, '--help'] },
      { label: `duck status${suffix}`, args: [bin, 'status', ...config] },
      { label: `duck check${suffix}`, args: [bin, 'check', ...config] },
    ]);
    const baseline: Timing[] = [];
    const duck = new Map<string, Timing[]>(commands.map((c) => [c.label, []]));
    for (let i = 0; i < RUNS; i++) {
      progress(`run ${i + 1}/${RUNS}`);
      // Interleaved, so a burst of load on the shared machine hits the baseline and duck alike.
      baseline.push(await timed(['-e', '0'], node.dir));
      for (const c of commands) duck.get(c.label)!.push(await timed(c.args, node.dir));
    }
    const rows: Comparison[] = commands.flatMap((c) => [
      { label: `${c.label}, wall`, duck: duck.get(c.label)!.map((t) => t.wall), git: baseline.map((t) => t.wall), gitCommand: 'node -e 0' },
      { label: `${c.label}, cpu`, duck: duck.get(c.label)!.map((t) => t.cpu), git: baseline.map((t) => t.cpu), gitCommand: 'node -e 0 (user + system)' },
    ]);
    return {
      title: 'cli-startup: the CLI as a process against node -e 0 (targets: --help 1.5x, status 2x, check 3x)',
      baseline: 'node -e 0',
      rows,
      notes: [
        `Each run: node -e 0, then every command once (interleaved), ${RUNS} runs; wall and user+system CPU from ${TIME} (the child's rusage).`,
        existsSync(BUNDLE) ? `(bundle): ${BUNDLE}, the same CLI bundled by esbuild with code splitting.` : 'No bundle measured (dist/agent/bundle/main.mjs absent: npm run bundle).',
        'duck check fetches from the loopback git server (tip unchanged after a first verify); status reads the accepted state.',
      ],
    };
  } finally {
    await host.close();
  }
}

/** Wall and CPU of `node ...args` as /usr/bin/time reports them; throws when the command fails. */
async function timed(args: string[], cwd: string): Promise<Timing> {
  const child = spawn(TIME, ['-f', '@@time %e %U %S', process.execPath, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  const match = /@@time (\S+) (\S+) (\S+)/.exec(stderr);
  if (code !== 0 || !match) throw new Error(`node ${args.join(' ')} exited ${code}: ${stderr.slice(-400)}`);
  const [wall, user, system] = match.slice(1).map(Number) as [number, number, number];
  return { wall: { ms: wall * 1000 }, cpu: { ms: (user + system) * 1000 } };
}
