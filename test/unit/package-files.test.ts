// The files the Debian packages ship beside the build (packaging/debian/), and `--version`'s
// reading of argv: the config example is a config the agent loads as it stands; the controller's
// environment file is one systemd reads as meant (it strips no trailing comment).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadAgentConfig } from '../../agent/src/node/config.js';
import { asksForVersion, versionLine } from '../../schemas/build-info.js';

const DEBIAN = fileURLToPath(new URL('../../packaging/debian/', import.meta.url));

test('agent.yaml.example is a valid agent config as shipped, with the paths duck.service may write', async () => {
  const config = await loadAgentConfig(`${DEBIAN}agent.yaml.example`);
  assert.is(config.stateDir, '/var/lib/duck');
  assert.is(config.overlay, '/etc/duck/overlay.yaml');
  const unit = await readFile(`${DEBIAN}duck.service`, 'utf8');
  const writable = /^ReadWritePaths=(.*)$/m.exec(unit)![1]!.split(' ');
  assert.ok(writable.includes(config.stateDir), writable.join(' '));
  assert.ok(writable.includes('/etc/duck'), 'the overlay\'s directory (a rollback pins through it)');
});

test('controller.env.example: each setting is KEY=value alone on its line (systemd keeps a trailing comment in the value)', async () => {
  const lines = (await readFile(`${DEBIAN}controller.env.example`, 'utf8')).split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  assert.ok(lines.length > 0);
  for (const line of lines) assert.match(line, /^[A-Z_]+=[^\s#]*$/, line);
  const unit = await readFile(`${DEBIAN}duck-controller.service`, 'utf8');
  for (const name of unit.matchAll(/\$\{([A-Z_]+)\}/g)) assert.ok(lines.some((l) => l.startsWith(`${name[1]}=`)), `${name[1]} is set in the example`);
});

test('--version before the command is duck\'s own; after it, the command\'s', () => {
  const cases: Array<[string[], boolean]> = [
    [['--version'], true],
    [['-v'], true],
    [['--json', '--version'], true],
    [['release', 'gate', '--version', '1.2.0'], false],
    [['status'], false],
  ];
  for (const [argv, expected] of cases) assert.is(asksForVersion(argv), expected, argv.join(' '));
});

test('the version line names the commit, or a checkout', () => {
  assert.is(versionLine('duck', { version: '1.4.0', commit: 'abc123' }), 'duck 1.4.0 (commit abc123)');
  assert.is(versionLine('duck', { version: '1.4.0', commit: null }), 'duck 1.4.0 (development checkout)');
});

test.run();
