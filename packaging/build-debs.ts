// `npm run package`: the Debian packages `duck_<version>_<arch>.deb` and
// `duck-controller_<version>_<arch>.deb` (dist/packages/), from the artifacts `npm run
// build:artifact` made (dist/artifacts/). The agent's build lives under a versioned directory,
// /usr/lib/duck/<version>/, with /usr/lib/duck/current pointing at it and /usr/bin/duck at
// current's launcher: a self-update stages another version beside it and switches the symlink.
// The units, the config example and the maintainer scripts are packaging/debian/.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { packageVersion } from './build-artifacts.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEBIAN = join(ROOT, 'packaging/debian');
/** Debian's name for each architecture (Node's process.arch names). */
const DEB_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };
const MAINTAINER = 'Duck maintainers <duck@localhost>';

export interface DebOptions {
  readonly arch: string;
  /** Where build:artifact left `<name>-<version>-linux-<arch>/`. */
  readonly artifactsDir: string;
  readonly outDir: string;
  /** dpkg-deb's compressor: xz (the default) is the smaller download, gzip the quicker build (tests). */
  readonly compression?: 'xz' | 'gzip';
}

interface PackageSpec {
  readonly name: 'duck' | 'duck-controller';
  /**
   * Debian's archive has a `duck` of its own (a URL checker, 0.14.1 in bookworm; perl-base Breaks
   * `duck (<< 0.14.1)`): without an epoch Duck's 0.x could not be configured on Debian 12, and apt
   * would "upgrade" it to that package. Epoch 1 sorts above every version of it.
   */
  readonly epoch: string;
  readonly summary: string;
  readonly description: string;
  /** Units under /lib/systemd/system, and the example config under /etc/duck (a conffile). */
  readonly units: readonly string[];
  readonly example: string;
}

const PACKAGES: readonly PackageSpec[] = [
  {
    name: 'duck',
    summary: 'GitOps for Docker Compose: the node agent',
    description: [
      'Follows a signed git release channel and applies Docker Compose releases on this node,',
      'with backups, health checks and rollback. duck.service is the daemon (started once',
      '/etc/duck/agent.yaml exists); duck-update.service runs the self-update.',
    ].join('\n'),
    epoch: '1:',
    units: ['duck.service', 'duck-update.service'],
    example: 'agent.yaml.example',
  },
  {
    name: 'duck-controller',
    summary: 'GitOps for Docker Compose: the fleet controller',
    description: [
      'Collects Duck agents\' telemetry and diagnostics and serves the fleet dashboard.',
      'duck-controller.service starts once /etc/duck/controller.env exists.',
    ].join('\n'),
    epoch: '',
    units: ['duck-controller.service'],
    example: 'controller.env.example',
  },
];

/** Builds both packages; returns their paths. */
export function buildDebs(opts: DebOptions): string[] {
  const debArch = DEB_ARCH[opts.arch];
  if (debArch === undefined) throw new Error(`--arch ${opts.arch}: Duck packages ${Object.keys(DEB_ARCH).join(', ')}`);
  const version = packageVersion();
  mkdirSync(opts.outDir, { recursive: true });
  return PACKAGES.map((spec) => {
    const artifact = join(opts.artifactsDir, `${spec.name}-${version}-linux-${opts.arch}`);
    if (!existsSync(join(artifact, spec.name))) throw new Error(`${artifact}: no artifact (run npm run build:artifact first)`);
    const stage = mkdtempSync(join(tmpdir(), `${spec.name}-deb-`));
    // The stage is the package's `./`: dpkg gives its mode to / on install.
    chmodSync(stage, 0o755);
    try {
      layOut(stage, spec, artifact, version);
      writeControl(stage, spec, version, debArch);
      // Debian's file names leave the epoch out.
      const deb = join(opts.outDir, `${spec.name}_${version}_${debArch}.deb`);
      // --root-owner-group: every file root:root without fakeroot.
      execFileSync('dpkg-deb', ['--root-owner-group', `-Z${opts.compression ?? 'xz'}`, '--build', stage, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
      return deb;
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  });
}

function layOut(stage: string, spec: PackageSpec, artifact: string, version: string): void {
  const lib = join(stage, 'usr/lib', spec.name);
  mkdirSync(lib, { recursive: true });
  cpSync(artifact, join(lib, version), { recursive: true, verbatimSymlinks: true });
  symlinkSync(version, join(lib, 'current'));
  mkdirSync(join(stage, 'usr/bin'), { recursive: true });
  symlinkSync(`../lib/${spec.name}/current/${spec.name}`, join(stage, 'usr/bin', spec.name));
  const units = join(stage, 'lib/systemd/system');
  mkdirSync(units, { recursive: true });
  for (const unit of spec.units) copyFileSync(join(DEBIAN, unit), join(units, unit));
  mkdirSync(join(stage, 'etc/duck'), { recursive: true });
  copyFileSync(join(DEBIAN, spec.example), join(stage, 'etc/duck', spec.example));
  const doc = join(stage, 'usr/share/doc', spec.name);
  mkdirSync(doc, { recursive: true });
  copyFileSync(join(ROOT, 'README.md'), join(doc, 'README.md'));
}

function writeControl(stage: string, spec: PackageSpec, version: string, debArch: string): void {
  const control = join(stage, 'DEBIAN');
  mkdirSync(control);
  const installedKiB = Number(execFileSync('du', ['-sk', '--exclude=DEBIAN', stage], { encoding: 'utf8' }).split('\t')[0]);
  const description = spec.description.split('\n').map((line) => ` ${line}`).join('\n');
  writeFileSync(join(control, 'control'), [
    `Package: ${spec.name}`,
    `Version: ${spec.epoch}${version}`,
    `Architecture: ${debArch}`,
    `Maintainer: ${MAINTAINER}`,
    `Installed-Size: ${installedKiB}`,
    // What the pinned node links against; nothing else is needed (no system node, no node_modules).
    'Depends: libc6, libgcc-s1, libstdc++6',
    ...(spec.name === 'duck' ? ['Suggests: docker.io, docker-compose'] : ['Suggests: postgresql']),
    'Section: admin',
    'Priority: optional',
    `Description: ${spec.summary}`,
    description,
    '',
  ].join('\n'));
  writeFileSync(join(control, 'conffiles'), `/etc/duck/${spec.example}\n`);
  for (const script of ['postinst', 'prerm', 'postrm']) {
    copyFileSync(join(DEBIAN, `${spec.name}.${script}`), join(control, script));
    chmodSync(join(control, script), 0o755);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      arch: { type: 'string', default: process.arch },
      artifacts: { type: 'string', default: join(ROOT, 'dist/artifacts') },
      out: { type: 'string', default: join(ROOT, 'dist/packages') },
      // xz makes the smaller package and takes minutes on two cores; CI's install check takes gzip.
      compression: { type: 'string', default: 'xz' },
    },
  });
  const compression = values.compression;
  if (compression !== 'xz' && compression !== 'gzip') throw new Error(`--compression: ${compression} is not xz or gzip`);
  for (const deb of buildDebs({ arch: values.arch, artifactsDir: values.artifacts, outDir: values.out, compression })) console.log(deb);
}
