// Which self-contained form the agent ships in (issue 15, point 1), measured: (a) a Node single
// executable (SEA: one CommonJS script, not split, injected into a copy of node with postject)
// against (b) the pinned node runtime beside the split ESM bundle and a sh launcher (what
// `npm run build:artifact` makes). Start-up wall and CPU of `duck --help`, `duck status` and
// `duck check` against `node -e 0`; artifact sizes; the peak RSS of `duck status` and the idle RSS
// of `duck run` after its first cycle against an idle bare node. postject is not a dependency of
// Duck: the SEA rows need it installed (`npm install --no-save postject@1.0.0-alpha.6`) or
// DUCK_POSTJECT pointing at its bin.
import { existsSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startDaemon } from '../examples/harness/daemon.js';
import { makeTempDir, removeTempDir, run } from '../examples/harness/tmp.js';
import { buildArtifacts } from '../packaging/build-artifacts.js';
import { startChannelHost } from '../test/helpers/channel-builder.js';
import { publishBasicChannel } from '../test/helpers/channel-fixtures.js';
import { bothRows, timed, type Timing } from './cli-startup.js';
import { idleNodeRss, rssMiB } from './daemon-idle.js';
// Types only: index.ts runs the benchmarks when loaded, so a value import here would be a cycle.
import type { BenchReport, Comparison, Sample } from './index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 7;
const IDLE_RUNS = 3;
const progress = (message: string): void => void process.stderr.write(`[artifact-forms] ${message}\n`);

interface Form {
  readonly label: string;
  /** The command that runs `duck`. */
  readonly command: readonly string[];
  /** What a node downloads (bytes) and what it keeps on disk. */
  readonly download: number;
  readonly disk: number;
}

interface Forms {
  readonly dir: string;
  readonly forms: Form[];
  /** Why the SEA form is missing, when it is. */
  readonly seaMissing: string | null;
}

async function buildForms(): Promise<Forms> {
  const dir = await makeTempDir('duck-bench-forms-');
  const [agent] = buildArtifacts({ arch: process.arch, node: process.execPath, outDir: join(dir, 'pinned') }).filter((a) => a.name === 'duck');
  const forms: Form[] = [
    { label: 'pinned node + bundle', command: [join(agent!.dir, 'duck')], download: (await stat(agent!.tarball)).size, disk: await duBytes(agent!.dir) },
  ];
  const postject = process.env.DUCK_POSTJECT || join(ROOT, 'node_modules/.bin/postject');
  if (!existsSync(postject)) return { dir, forms, seaMissing: `postject not found (${postject}): npm install --no-save postject@1.0.0-alpha.6, or set DUCK_POSTJECT` };
  forms.push(await buildSea(dir, postject));
  return { dir, forms, seaMissing: null };
}

/**
 * The SEA: a SEA runs one CommonJS script and can import nothing but built-ins, so the CLI is bundled
 * without splitting (every command inlined) from an entry without top-level await.
 */
async function buildSea(dir: string, postject: string): Promise<Form> {
  const entry = join(dir, 'sea-entry.mjs');
  const cli = join(ROOT, 'dist/agent/src/cli');
  await writeFile(entry, [
    `import { dropOutputOnceClosed } from ${JSON.stringify(join(cli, 'closed-output.js'))};`,
    `import { runCli } from ${JSON.stringify(join(cli, 'index.js'))};`,
    'dropOutputOnceClosed();',
    'runCli(process.argv.slice(2)).then((code) => { process.exitCode = code; });',
  ].join('\n'));
  const script = join(dir, 'duck.cjs');
  await run(join(ROOT, 'node_modules/.bin/esbuild'), [entry, '--bundle', '--platform=node', '--format=cjs', '--target=node20', '--minify-whitespace', '--minify-syntax', `--outfile=${script}`, '--log-level=error']);
  const config = join(dir, 'sea-config.json');
  await writeFile(config, JSON.stringify({ main: script, output: join(dir, 'duck.blob'), disableExperimentalSEAWarning: true }));
  await run(process.execPath, ['--experimental-sea-config', config], { cwd: dir });
  const binary = join(dir, 'duck-sea');
  await run('cp', [process.execPath, binary]);
  await run(postject, [binary, 'NODE_SEA_BLOB', join(dir, 'duck.blob'), '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2']);
  const gz = join(dir, 'duck-sea.gz');
  await run('sh', ['-c', `gzip -n -c "${binary}" > "${gz}"`]);
  return { label: 'SEA (one CJS script)', command: [binary], download: (await stat(gz)).size, disk: (await stat(binary)).size };
}

async function duBytes(dir: string): Promise<number> {
  return Number((await run('du', ['-sb', dir])).stdout.toString('utf8').split('\t')[0]);
}

function sizeNotes(f: Forms): string[] {
  const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return [
    ...f.forms.map((form) => `${form.label}: download ${mib(form.download)} (gzip), on disk ${mib(form.disk)}.`),
    ...(f.seaMissing ? [`SEA not measured: ${f.seaMissing}`] : []),
  ];
}

/** A node that has verified the basic signed channel: what status and check read. */
async function withNode<T>(work: (node: { dir: string; config: string; host: Awaited<ReturnType<typeof startChannelHost>>; url: string }) => Promise<T>): Promise<T> {
  const host = await startChannelHost('duck-bench-forms-channel-');
  try {
    const { ch, url } = await host.channel('forms');
    await publishBasicChannel(ch, host.rootKey);
    const node = await host.node(url);
    const verified = await node.duck('verify');
    if (verified.code !== 0) throw new Error(`duck verify exited ${verified.code}: ${verified.stderr}`);
    return await work({ dir: node.dir, config: node.configFile, host, url });
  } finally {
    await host.close();
  }
}

export async function benchArtifactStartup(): Promise<BenchReport> {
  const built = await buildForms();
  try {
    return await withNode(async (node) => {
      const commands = built.forms.flatMap((form) => [
        { label: `duck --help, ${form.label}`, command: form.command, args: ['--help'] },
        { label: `duck status, ${form.label}`, command: form.command, args: ['status', '--config', node.config] },
        { label: `duck check, ${form.label}`, command: form.command, args: ['check', '--config', node.config] },
      ]);
      const baseline: Timing[] = [];
      const duck = new Map<string, Timing[]>(commands.map((c) => [c.label, []]));
      for (let i = 0; i < RUNS; i++) {
        progress(`run ${i + 1}/${RUNS}`);
        // Interleaved, so a burst of load on the shared machine hits the baseline and each form alike.
        baseline.push(await timed(process.execPath, ['-e', '0'], node.dir));
        for (const c of commands) duck.get(c.label)!.push(await timed(c.command[0]!, [...c.command.slice(1), ...c.args], node.dir));
      }
      const rows: Comparison[] = commands.flatMap((c) => bothRows(c.label, duck.get(c.label)!, baseline, 'node -e 0'));
      return {
        title: 'artifact-forms: start-up of the self-contained agent, SEA against the pinned node + bundle',
        baseline: 'node -e 0',
        rows,
        notes: [`${RUNS} runs, interleaved; wall and user+system CPU from /usr/bin/time.`, ...sizeNotes(built)],
      };
    });
  } finally {
    await removeTempDir(built.dir);
  }
}

export async function benchArtifactMemory(): Promise<BenchReport> {
  const built = await buildForms();
  try {
    return await withNode(async (node) => {
      const rows: Comparison[] = [];
      const bareNode = await idleNodeRss(IDLE_RUNS, 'setInterval(() => {}, 1 << 30);');
      for (const form of built.forms) {
        const status: Sample[] = [];
        const bare: Sample[] = [];
        for (let i = 0; i < RUNS; i++) {
          bare.push({ ms: (await timed(process.execPath, ['-e', '0'], node.dir)).maxRss });
          status.push({ ms: (await timed(form.command[0]!, [...form.command.slice(1), 'status', '--config', node.config], node.dir)).maxRss });
        }
        rows.push({ label: `duck status peak RSS, ${form.label}`, duck: status, git: bare, gitCommand: 'node -e 0 (peak RSS)' });
        progress(`idle duck run, ${form.label}`);
        const idle: Sample[] = [];
        for (let i = 0; i < IDLE_RUNS; i++) {
          const served = await node.host.fresh({ interval: '1h' });
          await publishBasicChannel(served.ch, node.host.rootKey);
          await writeFile(served.node.overlayFile, 'approval: manual\n');
          const daemon = startDaemon(served.node, {}, form.command);
          try {
            await daemon.waitFor((e) => e.event === 'cycle', 'the first cycle', { timeoutMs: 300_000 });
            await sleep(3_000);
            idle.push({ ms: await rssMiB(daemon.child.pid!) });
          } finally {
            await daemon.stop();
          }
        }
        rows.push({ label: `duck run idle RSS (after its first cycle), ${form.label}`, duck: idle, git: bareNode, gitCommand: 'an idle node -e (setInterval)' });
      }
      return {
        title: 'artifact-memory: memory of the self-contained agent, SEA against the pinned node + bundle',
        baseline: 'bare node',
        unit: 'MiB',
        rows,
        notes: [`peak RSS from /usr/bin/time (%M), ${RUNS} runs; idle RSS is VmRSS 3 s after the first cycle of duck run, ${IDLE_RUNS} daemons.`, ...sizeNotes(built)],
      };
    });
  } finally {
    await removeTempDir(built.dir);
  }
}
