// The Debian packages (issue 15, point 2), built by `npm run package`'s code and installed with the
// real dpkg into a fake root (`dpkg --root`, the maintainer scripts run chrootless with DPKG_ROOT
// set): what the packages list, the units passing `systemd-analyze verify` against that root, the
// installed `duck --version` and `duck check` against a signed channel on the loopback git server,
// a postinst that leaves an operator's config alone, `dpkg -r` keeping config and `dpkg -P`
// removing it but never the state directory or the apps. Nothing is installed on this machine.
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';
import { buildArtifacts, type Artifact } from '../../packaging/build-artifacts.js';
import { buildDebs } from '../../packaging/build-debs.js';
import { startChannelHost, type ChannelHost } from '../helpers/channel-builder.js';
import { publishBasicChannel } from '../helpers/channel-fixtures.js';
import { envWithoutNode, writeOperatorConfig } from '../helpers/installed-node.js';

interface Ctx {
  dir: string;
  agent: Artifact;
  debs: { duck: string; controller: string };
  host: ChannelHost;
}

const Deb = suite<Ctx>('Debian packages', { dir: '', agent: null as unknown as Artifact, debs: { duck: '', controller: '' }, host: null as unknown as ChannelHost });

Deb.before(async (ctx) => {
  ctx.dir = await makeTempDir('duck-deb-');
  const artifacts = buildArtifacts({ arch: process.arch, node: process.execPath, outDir: join(ctx.dir, 'artifacts') });
  ctx.agent = artifacts.find((a) => a.name === 'duck')!;
  // gzip: the same package as xz, built in seconds instead of minutes.
  const [duck, controller] = buildDebs({ arch: process.arch, artifactsDir: join(ctx.dir, 'artifacts'), outDir: join(ctx.dir, 'debs'), compression: 'gzip' });
  ctx.debs = { duck: duck!, controller: controller! };
  ctx.host = await startChannelHost('duck-deb-channel-');
});

Deb.after(async (ctx) => {
  await ctx.host?.close();
  await removeTempDir(ctx.dir);
});

const DEB_ARCH = process.arch === 'x64' ? 'amd64' : process.arch;

async function text(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return (await run(cmd, args, env ? { env } : {})).stdout.toString('utf8');
}

/** An empty root with a dpkg database of its own. */
async function fakeRoot(ctx: Ctx, name: string): Promise<string> {
  const root = join(ctx.dir, name);
  for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers']) await mkdir(join(root, d), { recursive: true });
  await writeFile(join(root, 'var/lib/dpkg/status'), '');
  await writeFile(join(root, 'var/lib/dpkg/available'), '');
  return root;
}

/** dpkg on the fake root: the scripts run outside a chroot (DPKG_ROOT set); the libraries node links are the host's. */
async function dpkg(root: string, ...args: string[]): Promise<{ code: number; output: string }> {
  const r = await run('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--log=/dev/null', ...args], { allowFailure: true });
  return { code: r.code, output: `${r.stdout.toString('utf8')}${r.stderr}` };
}

Deb('the packages are named <name>_<version>_<arch>.deb and their control lists version, arch, dependencies and the conffile', async (ctx) => {
  assert.ok(ctx.debs.duck.endsWith(`/duck_${ctx.agent.version}_${DEB_ARCH}.deb`), ctx.debs.duck);
  assert.ok(ctx.debs.controller.endsWith(`/duck-controller_${ctx.agent.version}_${DEB_ARCH}.deb`), ctx.debs.controller);
  const info = await text('dpkg-deb', ['--info', ctx.debs.duck]);
  for (const line of ['Package: duck', `Version: 1:${ctx.agent.version}`, `Architecture: ${DEB_ARCH}`, 'Depends: libc6, libgcc-s1, libstdc++6']) assert.ok(info.includes(line), info);
  for (const script of ['postinst', 'prerm', 'postrm', 'conffiles']) assert.ok(info.includes(` ${script}`), info);
  assert.is(await text('dpkg-deb', ['--info', ctx.debs.duck, 'conffiles']), '/etc/duck/agent.yaml.example\n');
  const controllerInfo = await text('dpkg-deb', ['--info', ctx.debs.controller]);
  assert.ok(controllerInfo.includes('Package: duck-controller'), controllerInfo);
});

Deb('the agent package holds the versioned build, current, /usr/bin/duck, both units and the config example', async (ctx) => {
  const contents = await text('dpkg-deb', ['--contents', ctx.debs.duck]);
  const v = ctx.agent.version;
  for (const path of [
    `./usr/lib/duck/${v}/duck`, `./usr/lib/duck/${v}/node`, `./usr/lib/duck/${v}/lib/main.mjs`, `./usr/lib/duck/${v}/package.json`,
    './lib/systemd/system/duck.service', './lib/systemd/system/duck-update.service', './etc/duck/agent.yaml.example',
  ]) assert.ok(contents.includes(` ${path}\n`), `${path} missing:\n${contents.slice(0, 3000)}`);
  assert.match(contents, new RegExp(` \\./usr/lib/duck/current -> ${v.replace(/\./g, '\\.')}\\n`));
  assert.match(contents, / \.\/usr\/bin\/duck -> \.\.\/lib\/duck\/current\/duck\n/);
  assert.not.ok(contents.includes('./etc/duck/agent.yaml\n'), 'the package never ships the operator\'s config');
  // Every file is root's: no build user leaks into the package.
  assert.not.ok(contents.split('\n').some((l) => l && !l.includes(' root/root ')), 'a file not owned by root/root');
  const controller = await text('dpkg-deb', ['--contents', ctx.debs.controller]);
  for (const path of [`./usr/lib/duck-controller/${v}/duck-controller`, './lib/systemd/system/duck-controller.service', './etc/duck/controller.env.example', `./usr/lib/duck-controller/${v}/controller/migrations/`]) {
    assert.ok(controller.includes(` ${path}`), `${path} missing`);
  }
});

Deb('the units pass systemd-analyze verify on the installed tree; the agent is hardened and restarts with backoff', async (ctx) => {
  const root = await fakeRoot(ctx, 'verify-root');
  for (const deb of [ctx.debs.duck, ctx.debs.controller]) await run('dpkg-deb', ['-x', deb, root]);
  // The targets and slices the units name, as the host's systemd has them (verify looks them up in the root).
  const system = join(root, 'lib/systemd/system');
  for (const f of await readdir('/lib/systemd/system')) if (/\.(target|slice)$/.test(f)) await cp(join('/lib/systemd/system', f), join(system, f));
  const units = ['duck.service', 'duck-update.service', 'duck-controller.service'];
  const r = await run('systemd-analyze', ['verify', `--root=${root}`, ...units.map((u) => join(system, u))], { allowFailure: true });
  // A warning (an unknown key, a missing command) is a failure too.
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stderr.trim(), '', r.stderr);
  const agent = await readFile(join(system, 'duck.service'), 'utf8');
  for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'Restart=on-failure', 'ConditionPathExists=/etc/duck/agent.yaml']) assert.ok(agent.includes(`\n${line}\n`), line);
  assert.match(agent, /\nReadWritePaths=\/var\/lib\/duck \/etc\/duck/);
  assert.match(agent, /\nRestartSec=\S+\n/);
  assert.match(agent, /\nStartLimitIntervalSec=\S+\n/);
  assert.match(agent, /\nStartLimitBurst=\d+\n/);
  const update = await readFile(join(system, 'duck-update.service'), 'utf8');
  assert.ok(update.includes('\nType=oneshot\n'), update);
  // Its own unit, so its own cgroup: nothing ties it to duck.service, whose restart it drives.
  assert.not.match(update, /PartOf=|BindsTo=|Requisite=/);
});

Deb('dpkg -i: the installed duck prints its version and commit and checks a signed channel; -r keeps config; -P removes it, never state or apps', async (ctx) => {
  const root = await fakeRoot(ctx, 'install-root');
  // An operator's config is already there (a reinstall, or config management): postinst leaves it.
  const { ch, url } = await ctx.host.channel('deb');
  const tip = await publishBasicChannel(ch, ctx.host.rootKey);
  const etc = join(root, 'etc/duck');
  const config = await writeOperatorConfig(etc, { url, key: ctx.host.rootKey, stateDir: join(root, 'var/lib/duck') });

  const installed = await dpkg(root, '-i', ctx.debs.duck);
  assert.is(installed.code, 0, installed.output);
  assert.is(await readFile(join(etc, 'agent.yaml'), 'utf8'), config, 'postinst left the operator\'s config alone');
  assert.ok(existsSync(join(etc, 'agent.yaml.example')));

  // The installed command, through /usr/bin/duck -> current -> <version>, with no node on PATH.
  const env = await envWithoutNode(ctx.dir);
  const duck = join(root, 'usr/bin/duck');
  assert.is((await text(duck, ['--version'], env)).trim(), `duck ${ctx.agent.version} (commit ${ctx.agent.commit})`);
  const check = await run(duck, ['check', '--config', join(etc, 'agent.yaml')], { env, allowFailure: true });
  assert.is(check.code, 0, check.stderr);
  assert.ok(check.stdout.toString('utf8').includes(tip.slice(0, 12)), check.stdout.toString('utf8'));

  // The node's data: its state (written by check) and an app's files.
  const apps = join(root, 'var/lib/duck/apps/shop/data');
  await mkdir(apps, { recursive: true });
  await writeFile(join(apps, 'db.sqlite'), 'the app\'s data');
  const state = (await readdir(join(root, 'var/lib/duck'))).sort();

  const removed = await dpkg(root, '-r', 'duck');
  assert.is(removed.code, 0, removed.output);
  assert.not.ok(existsSync(duck), '/usr/bin/duck is gone');
  assert.not.ok(existsSync(join(root, 'usr/lib/duck')), '/usr/lib/duck is gone');
  assert.is(await readFile(join(etc, 'agent.yaml'), 'utf8'), config, 'dpkg -r keeps the config');
  assert.ok(existsSync(join(etc, 'agent.yaml.example')), 'dpkg -r keeps the conffile');

  const purged = await dpkg(root, '-P', 'duck');
  assert.is(purged.code, 0, purged.output);
  assert.not.ok(existsSync(join(etc, 'agent.yaml')), 'dpkg -P removes the config');
  assert.not.ok(existsSync(etc), 'and /etc/duck, empty');
  assert.equal((await readdir(join(root, 'var/lib/duck'))).sort(), state, 'dpkg -P keeps the state directory');
  assert.is(await readFile(join(apps, 'db.sqlite'), 'utf8'), 'the app\'s data', 'and the apps');
});

Deb('the controller package: -P removes its settings, keeps its data, and keeps the agent\'s config in the shared /etc/duck', async (ctx) => {
  const root = await fakeRoot(ctx, 'controller-root');
  const installed = await dpkg(root, '-i', ctx.debs.controller);
  assert.is(installed.code, 0, installed.output);
  assert.ok(installed.output.includes('not started: write /etc/duck/controller.env'), installed.output);
  const etc = join(root, 'etc/duck');
  await writeFile(join(etc, 'controller.env'), 'DUCK_ADMIN_TOKEN=a\n');
  await writeFile(join(etc, 'agent.yaml'), 'group: production\n');
  const data = join(root, 'var/lib/duck-controller');
  await mkdir(data, { recursive: true });
  await writeFile(join(data, 'fleet.json'), '{}');
  const ctl = join(root, 'usr/bin/duck-controller');
  assert.is((await text(ctl, ['--version'])).trim(), `duck-controller ${ctx.agent.version} (commit ${ctx.agent.commit})`);
  const purged = await dpkg(root, '-P', 'duck-controller');
  assert.is(purged.code, 0, purged.output);
  assert.not.ok(existsSync(join(etc, 'controller.env')));
  assert.ok(existsSync(join(etc, 'agent.yaml')), 'the agent\'s config is not the controller\'s to remove');
  assert.is(await readFile(join(data, 'fleet.json'), 'utf8'), '{}');
  await rm(root, { recursive: true, force: true });
});

Deb.run();
