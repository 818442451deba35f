// The operator CLI as an operator meets it: help, init, usage errors and their exit codes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseYaml } from '../../schemas/index.js';
import { DUCK_BIN, makeAgentNode } from '../../examples/harness/agent-node.js';
import { makeOpenpgpKey } from '../../examples/harness/keys.js';
import { agentState, historyEntry, writeAgentState } from '../helpers/agent-state.js';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';

const Cli = suite<{ dir: string }>('duck CLI', { dir: '' });

Cli.before(async (ctx) => {
  ctx.dir = await makeTempDir('duck-cli-');
});
Cli.after(async (ctx) => removeTempDir(ctx.dir));

async function duck(...args: string[]) {
  const r = await run(process.execPath, [DUCK_BIN, ...args], { allowFailure: true, env: { ...process.env, DUCK_CONFIG: '' } });
  return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr };
}

Cli('duck --help lists the commands and exits 0', async () => {
  const r = await duck('--help');
  assert.is(r.code, 0);
  for (const command of ['init', 'verify', 'check']) assert.ok(r.stdout.includes(command), r.stdout);
});

Cli('every command has --help', async () => {
  for (const command of ['init', 'verify', 'check', 'check-update']) {
    const r = await duck(command, '--help');
    assert.is(r.code, 0, `${command}: ${r.stderr}`);
    assert.match(r.stdout, /--config/);
  }
});

Cli('an unknown command exits 2 with a usage line', async () => {
  const r = await duck('frobnicate');
  assert.is(r.code, 2);
  assert.match(r.stderr, /^usage: Unknown command frobnicate/m);
});

Cli('duck init writes a commented config that validates, and refuses to overwrite it', async (ctx) => {
  const file = join(ctx.dir, 'etc', 'agent.yaml');
  const r = await duck('init', '--config', file, '--url', 'https://git.example.com/ops/releases.git', '--group', 'canary');
  assert.is(r.code, 0, r.stderr);
  const text = await readFile(file, 'utf8');
  assert.match(text, /^# /m);
  const config = parseYaml('agent-config', text, file);
  assert.is(config.group, 'canary');
  assert.is(config.channel.url, 'https://git.example.com/ops/releases.git');
  const again = await duck('init', '--config', file);
  assert.is(again.code, 1);
  assert.match(again.stderr, /already exists/);
});

Cli('a missing config is an error naming the file, exit 1', async (ctx) => {
  const file = join(ctx.dir, 'nowhere.yaml');
  const r = await duck('verify', '--config', file, '--json');
  assert.is(r.code, 1);
  assert.match(r.stderr, new RegExp(`${file}: not found`));
  assert.is((JSON.parse(r.stdout) as { reason: string }).reason, 'config');
});

Cli('a config with an unknown key names its file, line and field', async (ctx) => {
  const file = join(ctx.dir, 'bad.yaml');
  await (await import('node:fs/promises')).writeFile(file, 'channel:\n  url: https://x.example/r.git\n  brnch: main\ngroup: g\ntrust: { keys: [k.asc] }\n');
  const r = await duck('verify', '--config', file);
  assert.is(r.code, 1, 'the node\'s own config is not a refused channel');
  assert.match(r.stderr, new RegExp(`${file.replaceAll('/', '\\/')}:3:3: /channel: unknown key "brnch"`));
});

Cli('a reader that closes the pipe early (duck history | head -1) ends the command quietly, exit 0', async () => {
  const node = await makeAgentNode({ url: 'http://127.0.0.1:9/none.git', rootKeys: [await makeOpenpgpKey('root')] });
  // Far more than a pipe holds (64 KiB), so the command is still writing when the reader goes.
  const history = Array.from({ length: 1000 }, (_, i) => historyEntry({ id: `h-${i}`, reason: `entry ${i} ${'·'.repeat(120)}` }));
  await writeAgentState(node.stateDir, agentState({ history }));
  const child = spawn(process.execPath, [DUCK_BIN, 'history', '--limit', '1000', '--config', node.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const [first] = (await once(child.stdout, 'data')) as [Buffer];
  assert.match(first.toString('utf8'), /applied/);
  child.stdout.destroy();
  const [code] = (await once(child, 'close')) as [number | null];
  assert.is(stderr, '', 'nothing on stderr: no EPIPE, no stack trace');
  assert.is(code, 0);
  await removeTempDir(node.dir);
});

Cli.run();
