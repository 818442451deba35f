// `npm run build:artifact`: the self-contained agent and controller for one platform, each a
// directory and a tarball `dist/artifacts/<name>-<version>-linux-<arch>.tar.gz` holding
//
//   <name>          the launcher (sh): the node beside it runs lib/main.mjs
//   node            the pinned runtime, copied from this machine's (or --node PATH)
//   lib/            the esbuild bundle (ESM, split at the lazy imports, as the checkout's bin)
//   package.json    name, version and the commit built from (`gitHead`): `--version` reads it
//   ...             the files the code reads beside it (the channel template, migrations, dashboard)
//
// No system node and no node_modules are needed to run it. Chosen over a Node single executable by
// measurement (bench/README, artifact-forms). arm64: run on any machine with `--arch arm64 --node
// <an arm64 node binary>` (the bundle is plain JavaScript; only the runtime differs).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** ELF e_machine of each architecture Duck builds for (Node's process.arch names). */
const ELF_MACHINE: Record<string, number> = { x64: 62, arm64: 183 };

export interface ArtifactOptions {
  readonly arch: string;
  /** The node binary to pin: it must be built for `arch`. */
  readonly node: string;
  readonly outDir: string;
}

export interface Artifact {
  readonly name: string;
  readonly version: string;
  readonly commit: string;
  /** The unpacked directory (what the Debian package installs) and its tarball. */
  readonly dir: string;
  readonly tarball: string;
}

interface Component {
  readonly name: 'duck' | 'duck-controller';
  readonly description: string;
  /** Writes the bundle into `lib`. */
  bundle(lib: string): void;
  /** Paths from the repository root copied to the same place in the artifact. */
  readonly files: readonly string[];
}

const COMPONENTS: readonly Component[] = [
  {
    name: 'duck',
    description: 'Duck node agent and operator CLI',
    // `npm run build` made it: the same bundle the checkout's bin runs.
    bundle: (lib) => cpSync(join(ROOT, 'dist/agent/bundle'), lib, { recursive: true }),
    files: ['releases-repo-template', 'agent/src/console/public'],
  },
  {
    name: 'duck-controller',
    description: 'Duck controller: telemetry, diagnostics and the fleet dashboard',
    bundle: (lib) => esbuild(join(ROOT, 'dist/controller/src/main.js'), lib),
    files: ['controller/migrations', 'controller/src/dashboard/public'],
  },
];

/** The agent's and the controller's artifacts for `opts.arch`, from the build in dist/. */
export function buildArtifacts(opts: ArtifactOptions): Artifact[] {
  checkRuntime(opts.node, opts.arch);
  const version = packageVersion();
  const commit = gitOutput(['rev-parse', 'HEAD']) ?? 'unknown';
  // Tarballs of the same commit are the same bytes: fixed owners, order and times, gzip without a name.
  const mtime = gitOutput(['log', '-1', '--format=%ct']) ?? '0';
  mkdirSync(opts.outDir, { recursive: true });
  return COMPONENTS.map((c) => {
    const base = `${c.name}-${version}-linux-${opts.arch}`;
    const dir = join(opts.outDir, base);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    c.bundle(join(dir, 'lib'));
    for (const file of c.files) cpSync(join(ROOT, file), join(dir, file), { recursive: true });
    copyFileSync(opts.node, join(dir, 'node'));
    chmodSync(join(dir, 'node'), 0o755);
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: c.name, version, description: c.description, gitHead: commit, private: true }, null, 2)}\n`);
    writeFileSync(join(dir, c.name), launcher(c.name, version, commit), { mode: 0o755 });
    const tarball = `${dir}.tar.gz`;
    execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${mtime}`, '--use-compress-program=gzip -n', '-cf', tarball, '-C', opts.outDir, base]);
    return { name: c.name, version, commit, dir, tarball };
  });
}

/** The version every artifact and package of this tree carries: package.json's. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

function launcher(name: string, version: string, commit: string): string {
  return [
    '#!/bin/sh',
    `# ${name} ${version} (commit ${commit}): the node beside this file runs the bundle in lib/,`,
    `# wherever the directory is unpacked or linked from (/usr/bin/${name} -> /usr/lib/${name}/current/${name}).`,
    'here=$(dirname "$(readlink -f "$0")")',
    'exec "$here/node" "$here/lib/main.mjs" "$@"',
    '',
  ].join('\n');
}

/** The controller as one ESM bundle split at its lazy imports, as the agent's (package.json `bundle`). */
function esbuild(entry: string, outdir: string): void {
  execFileSync(join(ROOT, 'node_modules/.bin/esbuild'), [
    entry, '--bundle', '--splitting', '--platform=node', '--format=esm', '--target=node20',
    '--minify-whitespace', '--minify-syntax', `--outdir=${outdir}`, '--out-extension:.js=.mjs', '--log-level=warning',
    // pg loads its native binding only when asked for it (pg.native), which Duck never does.
    '--external:pg-native',
    "--banner:js=import { createRequire as __duckRequire } from 'node:module'; const require = __duckRequire(import.meta.url);",
  ], { stdio: 'inherit' });
}

/** Refuses a runtime that is not an ELF executable for `arch`: a wrong --node would ship a node that cannot start. */
function checkRuntime(node: string, arch: string): void {
  const machine = ELF_MACHINE[arch];
  if (machine === undefined) throw new Error(`--arch ${arch}: Duck builds for ${Object.keys(ELF_MACHINE).join(', ')}`);
  const header = Buffer.alloc(20);
  const fd = openSync(node, 'r');
  try {
    readSync(fd, header, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  if (header.readUInt32BE(0) !== 0x7f454c46) throw new Error(`--node ${node}: not an ELF executable`);
  if (header.readUInt16LE(18) !== machine) throw new Error(`--node ${node}: built for ELF machine ${header.readUInt16LE(18)}, not ${arch} (${machine})`);
}

function gitOutput(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      arch: { type: 'string', default: process.arch },
      node: { type: 'string', default: process.execPath },
      out: { type: 'string', default: join(ROOT, 'dist/artifacts') },
    },
  });
  for (const a of buildArtifacts({ arch: values.arch, node: values.node, outDir: values.out })) {
    console.log(`${a.tarball} (${(statSync(a.tarball).size / 1024 / 1024).toFixed(1)} MiB, ${a.name} ${a.version}, commit ${a.commit})`);
  }
}
