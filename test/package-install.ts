// The Debian packages installed for real on this machine (issue 15, point 2: what CI runs after the
// test tiers; not a test file, as it changes the machine): builds both packages (or takes them from
// --debs DIR), `dpkg -i`, runs the installed `duck --version` and `duck check` against a signed
// channel on the loopback git server, `dpkg -r` (config kept), `dpkg -P` (config gone, state and
// apps kept); the controller likewise. It refuses to start on a machine that already has Duck
// installed or configured, and leaves the machine as it found it: whatever it installed is purged
// and the state it made removed. Prints `package-install: N passed, N failed`.
//
//   node --import tsx test/package-install.ts [--debs dist/packages]
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeTempDir, removeTempDir, run } from '../examples/harness/tmp.js';
import { buildArtifacts, packageVersion } from '../packaging/build-artifacts.js';
import { buildDebs } from '../packaging/build-debs.js';
import { startChannelHost } from './helpers/channel-builder.js';
import { publishBasicChannel } from './helpers/channel-fixtures.js';
import { envWithoutNode, writeOperatorConfig } from './helpers/installed-node.js';

const ETC = '/etc/duck';
const STATE = '/var/lib/duck';
const CONTROLLER_DATA = '/var/lib/duck-controller';
/** Paths whose presence means Duck is already on this machine: the check would not leave it as found. */
const MUST_BE_ABSENT = ['/usr/bin/duck', '/usr/bin/duck-controller', '/usr/lib/duck', '/usr/lib/duck-controller', ETC, STATE, CONTROLLER_DATA];

let passed = 0;
let failed = 0;
function expect(ok: boolean, what: string, detail = ''): void {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${ok || !detail ? '' : `\n     ${detail.trim().split('\n').join('\n     ')}`}`);
}

async function dpkg(...args: string[]): Promise<{ code: number; output: string }> {
  const r = await run('dpkg', ['--force-depends', ...args], { allowFailure: true });
  return { code: r.code, output: `${r.stdout.toString('utf8')}${r.stderr}` };
}

async function installed(name: string): Promise<boolean> {
  const r = await run('dpkg-query', ['-W', '-f=${Status}', name], { allowFailure: true });
  return r.code === 0 && r.stdout.toString('utf8').includes('installed') && !r.stdout.toString('utf8').includes('not-installed');
}

async function debs(dir: string, given: string | undefined): Promise<{ duck: string; controller: string }> {
  const debArch = process.arch === 'x64' ? 'amd64' : process.arch;
  if (given) return { duck: join(given, `duck_${packageVersion()}_${debArch}.deb`), controller: join(given, `duck-controller_${packageVersion()}_${debArch}.deb`) };
  buildArtifacts({ arch: process.arch, node: process.execPath, outDir: join(dir, 'artifacts') });
  const [duck, controller] = buildDebs({ arch: process.arch, artifactsDir: join(dir, 'artifacts'), outDir: join(dir, 'debs'), compression: 'gzip' });
  return { duck: duck!, controller: controller! };
}

async function checkAgent(dir: string, deb: string): Promise<void> {
  const host = await startChannelHost('duck-package-install-');
  try {
    const { ch, url } = await host.channel('install');
    const tip = await publishBasicChannel(ch, host.rootKey);
    const i = await dpkg('-i', deb);
    expect(i.code === 0, 'dpkg -i duck', i.output);
    expect(existsSync(`${ETC}/agent.yaml.example`) && !existsSync(`${ETC}/agent.yaml`), 'the example is installed, no agent.yaml is written');
    const config = await writeOperatorConfig(ETC, { url, key: host.rootKey, stateDir: STATE });
    const env = await envWithoutNode(dir);
    const commit = JSON.parse(await readFile(`/usr/lib/duck/${packageVersion()}/package.json`, 'utf8')).gitHead as string;
    const version = await run('/usr/bin/duck', ['--version'], { env, allowFailure: true });
    expect(version.stdout.toString('utf8').trim() === `duck ${packageVersion()} (commit ${commit})`, 'the installed duck --version names the version and commit', version.stdout.toString('utf8') + version.stderr);
    const check = await run('/usr/bin/duck', ['check'], { env, allowFailure: true });
    expect(check.code === 0 && check.stdout.toString('utf8').includes(tip.slice(0, 12)), 'the installed duck check (default config /etc/duck/agent.yaml) verifies the channel', check.stdout.toString('utf8') + check.stderr);
    await mkdir(`${STATE}/apps/shop/data`, { recursive: true });
    await writeFile(`${STATE}/apps/shop/data/db.sqlite`, 'the app\'s data');
    const state = (await readdir(STATE)).sort().join(' ');
    const r = await dpkg('-r', 'duck');
    expect(r.code === 0 && !existsSync('/usr/bin/duck') && !existsSync('/usr/lib/duck'), 'dpkg -r duck removes the program', r.output);
    expect(existsSync(`${ETC}/agent.yaml`) && (await readFile(`${ETC}/agent.yaml`, 'utf8')) === config, 'dpkg -r keeps /etc/duck/agent.yaml');
    const p = await dpkg('-P', 'duck');
    expect(p.code === 0 && !existsSync(`${ETC}/agent.yaml`) && !existsSync(ETC), 'dpkg -P removes the config', p.output);
    expect((await readdir(STATE)).sort().join(' ') === state && existsSync(`${STATE}/apps/shop/data/db.sqlite`), 'dpkg -P keeps the state directory and the apps');
  } finally {
    await host.close();
  }
}

async function checkController(deb: string): Promise<void> {
  const i = await dpkg('-i', deb);
  expect(i.code === 0 && existsSync(`${ETC}/controller.env.example`), 'dpkg -i duck-controller', i.output);
  const version = await run('/usr/bin/duck-controller', ['--version'], { allowFailure: true });
  expect(version.stdout.toString('utf8').startsWith(`duck-controller ${packageVersion()} (commit `), 'the installed duck-controller --version', version.stdout.toString('utf8') + version.stderr);
  await writeFile(`${ETC}/controller.env`, 'DUCK_ADMIN_TOKEN=a\n');
  const r = await dpkg('-r', 'duck-controller');
  expect(r.code === 0 && !existsSync('/usr/bin/duck-controller') && existsSync(`${ETC}/controller.env`), 'dpkg -r duck-controller keeps its settings', r.output);
  const p = await dpkg('-P', 'duck-controller');
  expect(p.code === 0 && !existsSync(`${ETC}/controller.env`), 'dpkg -P duck-controller removes them', p.output);
}

/** Leaves the machine as found: purges what is still installed, removes the state this check made. */
async function restore(): Promise<void> {
  for (const name of ['duck', 'duck-controller']) if (await installed(name)) await dpkg('-P', name);
  for (const path of [ETC, STATE, CONTROLLER_DATA]) await rm(path, { recursive: true, force: true });
}

const { values } = parseArgs({ options: { debs: { type: 'string' } } });
const present = MUST_BE_ABSENT.filter((p) => existsSync(p));
if (process.getuid?.() !== 0) {
  console.error('package-install: dpkg -i needs root');
  process.exit(1);
}
if (present.length > 0 || (await installed('duck')) || (await installed('duck-controller'))) {
  console.error(`package-install: Duck is already on this machine (${present.join(', ') || 'a duck package is installed'}); refusing to install over it`);
  process.exit(1);
}
const dir = await makeTempDir('duck-package-install-');
try {
  const packages = await debs(dir, values.debs);
  await checkAgent(dir, packages.duck);
  await checkController(packages.controller);
} catch (err) {
  expect(false, 'the install check ran to its end', (err as Error).stack ?? String(err));
} finally {
  await restore();
  await removeTempDir(dir);
}
console.log(`package-install: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
