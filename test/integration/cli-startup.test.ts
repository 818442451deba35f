// What the CLI loads to start (issue 13): `duck --help` lists every command from static metadata,
// importing none of them, so it loads no library beyond citty; a command's help loads that command;
// a reading command leaves the compose library alone.
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DUCK_BIN } from '../../examples/harness/agent-node.js';
import { run } from '../../examples/harness/tmp.js';

const LOG_PACKAGES = fileURLToPath(new URL('../helpers/package-log-loader.mjs', import.meta.url));

/** The npm packages `duck ...args` loads, with its exit code and output. */
async function packagesOf(...args: string[]) {
  const r = await run(process.execPath, ['--import', LOG_PACKAGES, DUCK_BIN, ...args], { allowFailure: true, env: { ...process.env, DUCK_CONFIG: '' } });
  const packages = [...r.stderr.matchAll(/^\[package\] (\S+)$/gm)].map((m) => m[1]!);
  return { code: r.code, stdout: r.stdout.toString('utf8'), packages };
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

Startup.run();
