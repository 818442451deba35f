// `duck-controller serve` as a process: it refuses to start without both tokens (naming the one
// missing), prints one ready line with the port --port 0 picked, and exits 0 on SIGTERM.
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTempDir, removeTempDir, run } from '../../examples/harness/tmp.js';

const test = suite('controller cli');
const MAIN = join(process.cwd(), 'controller/src/main.ts');
const ENV = { ...process.env, DUCK_ENROLL_TOKEN: '', DUCK_ADMIN_TOKEN: '' };

test('serve without the admin token refuses to start and names it', async () => {
  const dir = await makeTempDir('duck-controller-cli-');
  try {
    const result = await run(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--port', '0', '--data', dir, '--enroll-token', 'e'], { env: ENV, allowFailure: true });
    assert.is(result.code, 1);
    assert.match(result.stderr, 'admin token is missing (--admin-token or DUCK_ADMIN_TOKEN)');
  } finally {
    await removeTempDir(dir);
  }
});

test('serve --port 0 prints "listening on http://127.0.0.1:<port>", answers there, and exits 0 on SIGTERM', async () => {
  const dir = await makeTempDir('duck-controller-cli-');
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--port', '0', '--data', dir], {
    env: { ...ENV, DUCK_ENROLL_TOKEN: 'e-token', DUCK_ADMIN_TOKEN: 'a-token' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no ready line within 20 s: ${out}`)), 20_000);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString('utf8');
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve(out.split('\n')[0]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited ${code} before listening`)));
    });
    const match = /^duck-controller listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
    assert.ok(match, line);
    assert.ok(Number(match[2]) > 0);
    assert.equal(await (await fetch(`${match[1]}/healthz`)).json(), { ok: true });
    await access(join(dir, 'fleet.json'));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.is(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await removeTempDir(dir);
  }
});

test.run();
