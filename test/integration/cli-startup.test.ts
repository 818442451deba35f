// What the CLI loads to start (issue 13): `duck --help` lists every command from static metadata,
// importing none of them, so it loads no library beyond citty; a command's help loads that command;
// a reading command leaves the compose library alone; `duck status` and `duck check` of an unchanged
// tip load neither openpgp.js (no key or signature is read) nor the ajv compiler (the validators are
// generated ahead of time) nor the overlay watcher, nor isomorphic-git, which no command of the node
// loads: it reads its clone, the server's ref advertisement and the pack it downloads itself; nor
// luxon and the node's zone while no window or hold's end is to be read. The load is read from the tsc output, where each
// package is its own module (the bundle, the bin, is made from it and splits at the same imports).
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DUCK_BIN } from '../../examples/harness/agent-node.js';
import { run } from '../../examples/harness/tmp.js';
import type { ChannelHost, ServedChannel } from '../helpers/channel-builder.js';
import { startChannelHost } from '../helpers/channel-builder.js';
import { publishBasicChannel, writeGroup, writeRelease } from '../helpers/channel-fixtures.js';

const LOG_PACKAGES = fileURLToPath(new URL('../helpers/package-log-loader.mjs', import.meta.url));
const TSC_BIN = fileURLToPath(new URL('../../dist/agent/src/main.js', import.meta.url));

/** The npm packages (and their files) `duck ...args` loads, with its exit code and output. */
async function packagesOf(...args: string[]) {
  const r = await run(process.execPath, ['--import', LOG_PACKAGES, TSC_BIN, ...args], { allowFailure: true, env: { ...process.env, DUCK_CONFIG: '' } });
  const packages = [...r.stderr.matchAll(/^\[package\] (\S+)$/gm)].map((m) => m[1]!);
  const files = [...r.stderr.matchAll(/^\[file\] (\S+)$/gm)].map((m) => m[1]!);
  const zoneLookup = /^\[intl\] DateTimeFormat$/m.test(r.stderr);
  const builtins = [...r.stderr.matchAll(/^\[builtin\] (\S+)$/gm)].map((m) => m[1]!);
  return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr, packages, files, zoneLookup, builtins };
}

/**
 * What a command that reads the node must not load: it verifies nothing and watches nothing; with
 * no window and no hold's end to read in a zone (the basic channel has none), no date library and
 * no zone lookup (ICU's data).
 */
function assertReadsOnly(r: Awaited<ReturnType<typeof packagesOf>>): void {
  assert.is(r.code, 0, r.stderr);
  assert.not.ok(r.packages.includes('openpgp'), r.packages.join(' '));
  assert.not.ok(r.packages.includes('chokidar'), r.packages.join(' '));
  assert.not.ok(r.packages.includes('luxon'), r.packages.join(' '));
  assert.not.ok(r.zoneLookup, 'the node\'s zone was looked up (Intl.DateTimeFormat)');
  // ajv's run-time helpers (ucs2length) are what generated validators call; its compiler is not.
  const ajv = r.files.filter((f) => f.startsWith('ajv/') || f.startsWith('ajv-formats/'));
  assert.equal(
    ajv.filter((f) => !f.startsWith('ajv/dist/runtime/') && f !== 'ajv-formats/dist/formats.js'),
    [],
    ajv.join(' '),
  );
}

const Startup = suite('duck CLI start-up');

Startup('duck --help lists every command and loads no library but citty', async () => {
  const r = await packagesOf('--help');
  assert.is(r.code, 0);
  for (const command of ['init', 'verify', 'check', 'status', 'run', 'backups', 'release']) assert.ok(r.stdout.includes(command), r.stdout);
  assert.ok(r.stdout.includes('Show this node from its local state'), 'the descriptions are printed');
  assert.equal(r.packages, ['citty']);
});

Startup('duck with no argument prints the same help, loading no command', async () => {
  const r = await packagesOf();
  assert.is(r.code, 0);
  assert.ok(r.stdout.includes('COMMANDS'), r.stdout);
  assert.equal(r.packages, ['citty']);
});

Startup("a command's help still shows its options and subcommands (it loads that command)", async () => {
  const r = await packagesOf('history', '--help');
  assert.is(r.code, 0);
  assert.ok(r.stdout.includes('--limit'), r.stdout);
  const release = await packagesOf('release', '--help');
  assert.ok(release.stdout.includes('keygen'), release.stdout);
});

Startup('duck status does not load the compose library (Compose is looked for when a change needs it)', async () => {
  const r = await packagesOf('status', '--config', '/nonexistent/agent.yaml');
  assert.is.not(r.code, 0);
  assert.ok(r.packages.includes('citty'), r.packages.join(' '));
  assert.not.ok(r.packages.includes('docker-compose'), r.packages.join(' '));
});

Startup('the bin is the bundle, and it runs the same CLI', async () => {
  assert.ok(DUCK_BIN.endsWith('/dist/agent/bundle/main.mjs'), DUCK_BIN);
  const r = await run(process.execPath, [DUCK_BIN, '--help'], { allowFailure: true });
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.toString('utf8').includes('Show this node from its local state'));
});

Startup('the bundle is minified for parsing (whitespace and syntax) but keeps its names, so stacks stay readable', async () => {
  const dir = dirname(DUCK_BIN);
  const chunks = (await readdir(dir)).filter((f) => f.endsWith('.mjs'));
  for (const chunk of chunks) {
    // esbuild marks each module it bundles with a `// path` comment unless whitespace is minified.
    assert.not.match(await readFile(join(dir, chunk), 'utf8'), /^\/\/ (dist|node_modules)\//m, chunk);
  }
  assert.match(await readFile(DUCK_BIN, 'utf8'), /async function runCli\(/);
});

const Reading = suite<{ host: ChannelHost; served: ServedChannel; config: string }>('duck status and duck check load no verifier', {
  host: null as unknown as ChannelHost,
  served: null as unknown as ServedChannel,
  config: '',
});

Reading.before(async (ctx) => {
  ctx.host = await startChannelHost('duck-cli-startup-');
  ctx.served = await ctx.host.channel('startup');
  const { ch, url } = ctx.served;
  await publishBasicChannel(ch, ctx.host.rootKey);
  const node = await ctx.host.node(url);
  const verified = await node.duck('verify');
  assert.is(verified.code, 0, verified.stderr);
  ctx.config = node.configFile;
});

Reading.after(async (ctx) => {
  await ctx.host.close();
});

Reading('duck status reads the accepted commit without openpgp.js, isomorphic-git, the ajv compiler or the overlay watcher', async (ctx) => {
  const r = await packagesOf('status', '--config', ctx.config);
  assertReadsOnly(r);
  // It reads the clone with the node's own object store and asks the server nothing.
  assert.not.ok(r.packages.includes('isomorphic-git'), r.packages.join(' '));
  // Nor the apply code (its retries of a Docker outage): status changes nothing.
  assert.not.ok(r.packages.includes('p-retry'), r.packages.join(' '));
  // Nor node's HTTP, TLS or process modules: it asks neither the server nor the engine anything.
  assert.ok(r.builtins.includes('zlib'), r.builtins.join(' '));
  for (const builtin of ['http', 'https', 'tls', 'child_process']) assert.not.ok(r.builtins.includes(builtin), `${builtin} loaded: ${r.builtins.join(' ')}`);
  assert.ok(r.stdout.includes('shop'), r.stdout);
});

Reading('duck check of an unchanged tip fetches (one ref request) without openpgp.js, isomorphic-git or the ajv compiler', async (ctx) => {
  const r = await packagesOf('check', '--config', ctx.config);
  assertReadsOnly(r);
  // The ref request is read by the node itself, over plain node:http.
  assert.not.ok(r.packages.includes('isomorphic-git'), r.packages.join(' '));
  assert.not.ok(r.packages.includes('simple-get'), r.packages.join(' '));
  assert.ok(r.stdout.includes('(unchanged)'), r.stdout);
});

Reading('the JSON of duck status still names the node zone, and a window loads the date library', async (ctx) => {
  const json = await packagesOf('status', '--json', '--config', ctx.config);
  assert.is(json.code, 0, json.stderr);
  assert.is(JSON.parse(json.stdout).zone, Intl.DateTimeFormat().resolvedOptions().timeZone);
  assert.not.ok(json.packages.includes('luxon'), json.packages.join(' '));
  const overlay = join(dirname(ctx.config), 'overlay.yaml');
  await writeFile(overlay, 'windows:\n  - { days: [mon-sun], start: "00:00", duration: 24h, timezone: UTC }\n');
  try {
    const windowed = await packagesOf('status', '--config', ctx.config);
    assert.is(windowed.code, 0, windowed.stderr);
    assert.ok(windowed.packages.includes('luxon'), windowed.packages.join(' '));
    assert.ok(windowed.stdout.includes('Mon-Sun 00:00 for 24h UTC'), windowed.stdout);
  } finally {
    await rm(overlay, { force: true });
  }
});

// Last: it moves the node to a new tip.
Reading('duck verify of a new tip downloads and verifies it without isomorphic-git', async (ctx) => {
  const { ch } = ctx.served;
  await writeRelease(ch, 'shop', '1.1.0');
  await writeGroup(ch, 'production', { shop: '1.1.0' });
  const tip = await ch.commit('shop 1.1.0', ctx.host.rootKey);
  await ch.publish();
  const r = await packagesOf('verify', '--config', ctx.config);
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes(`accepted ${tip.slice(0, 12)} (new)`), r.stdout);
  assert.not.ok(r.packages.includes('isomorphic-git'), r.packages.join(' '));
  assert.not.ok(r.packages.includes('simple-get'), r.packages.join(' '));
});

Startup.run();
Reading.run();
