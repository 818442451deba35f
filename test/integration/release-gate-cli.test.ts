// `duck release gate` as a CI job runs it (the built CLI, a child process) against a real
// controller over loopback, with the read-only token: exit 0 when the version runs healthy on
// enough nodes, 3 when the release failed on too many, 1 when neither (at once without --wait),
// 2 without a token; and with --wait it reads again until the rollout decides.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { DUCK_BIN } from '../../examples/harness/agent-node.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import type { AppStatus } from '../../schemas/index.js';
import { buildApp, controllerSuite, enrollAgent, reportAs, type TestController } from '../helpers/controller.js';
import { duckCli } from '../helpers/release-cli.js';

const test = controllerSuite<{ dir: string; tokenFile: string }>('duck release gate', { each: true });

test.before.each(async (ctx) => {
  ctx.dir = await makeTempDir('duck-gate-');
  ctx.tokenFile = join(ctx.dir, 'read-token');
  await writeFile(ctx.tokenFile, `${ctx.ctl.readToken}\n`, { mode: 0o600 });
});
test.after.each(async (ctx) => {
  await removeTempDir(ctx.dir);
});

const hello = (current: string | null, overrides: Partial<AppStatus> = {}): AppStatus => buildApp('hello', current, { groupVersion: '1.2.0', desired: '1.2.0', ...overrides });
const failed = (): AppStatus => hello('1.1.0', { state: 'failed', failedVersion: '1.2.0', decision: 'wait', waitingFor: 'failed' });

function report(ctl: TestController, agentId: string, app: AppStatus): Promise<void> {
  return reportAs(ctl, agentId, { group: 'canary', apps: [app] });
}

function gateArgs(ctl: TestController, tokenFile: string, extra: string[] = []): string[] {
  return ['release', 'gate', '--controller', ctl.url, '--group', 'canary', '--app', 'hello', '--version', '1.2.0', '--min-nodes', '3', '--max-failed', '0%', '--token-file', tokenFile, ...extra];
}

test('exit 0 when the version runs healthy on --min-nodes nodes', async ({ ctl, dir, tokenFile }) => {
  for (const id of ['g1', 'g2', 'g3']) await report(ctl, id, hello('1.2.0'));
  const r = await duckCli(dir, gateArgs(ctl, tokenFile, ['--json']));
  assert.is(r.code, 0, r.stderr);
  assert.is(r.json?.verdict, 'pass');
  assert.match(String(r.json?.message), /healthy on 3 of 3 nodes/);
});

test('exit 3 when the release failed on more nodes than --max-failed allows', async ({ ctl, dir, tokenFile }) => {
  for (const id of ['g1', 'g2', 'g3']) await report(ctl, id, hello('1.2.0'));
  await report(ctl, 'g4', failed());
  const r = await duckCli(dir, gateArgs(ctl, tokenFile));
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /gate failed: hello 1\.2\.0 in group canary failed: .*failed by the release on 1; at most 0% may fail/);
  assert.is((await duckCli(dir, gateArgs(ctl, tokenFile, ['--max-failed', '25%']))).code, 0, '1 of 4 is within 25%');
});

test('exit 1 at once without --wait when the rollout is not decided, saying what it saw', async ({ ctl, dir, tokenFile }) => {
  await report(ctl, 'g1', hello('1.2.0'));
  await report(ctl, 'g2', hello('1.1.0', { decision: 'wait', waitingFor: 'window' }));
  const r = await duckCli(dir, gateArgs(ctl, tokenFile));
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /gate undecided: .*healthy on 1 of 2 nodes .*window 1; 3 needed \(without --wait, 1 reading\)/);
});

test('exit 2 without a token; exit 1 on a token the controller refuses, without waiting', async ({ ctl, dir }) => {
  const noToken = await duckCli(dir, ['release', 'gate', '--controller', ctl.url, '--group', 'canary', '--app', 'hello', '--version', '1.2.0']);
  assert.is(noToken.code, 2, noToken.stderr);
  assert.match(noToken.stderr, /DUCK_CONTROLLER_TOKEN/);
  const agentToken = await enrollAgent(ctl, 'g-agent');
  const refused = await duckCli(dir, ['release', 'gate', '--controller', ctl.url, '--group', 'canary', '--app', 'hello', '--version', '1.2.0', '--wait', '10m'], {
    DUCK_CONTROLLER_TOKEN: agentToken,
  });
  assert.is(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /403/);
});

test('with --wait it reads again until the canaries prove the version', async ({ ctl, dir, tokenFile }) => {
  await report(ctl, 'g1', hello('1.2.0'));
  const child = spawn(process.execPath, [DUCK_BIN, ...gateArgs(ctl, tokenFile, ['--wait', '5m', '--interval', '1s'])], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // The nodes catch up only after the gate has seen the rollout undecided at least once.
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('waiting:')) resolve();
    });
    void exited.then(() => resolve());
  });
  for (const id of ['g2', 'g3']) await report(ctl, id, hello('1.2.0'));
  assert.is(await exited, 0, stderr);
  assert.match(stdout, /waiting: hello 1\.2\.0 in group canary not proven yet: healthy on 1 of 1 nodes/);
  assert.match(stdout, /passed: healthy on 3 of 3 nodes/);
});

test.run();
