// e2e lane: own compose project
// Issue 12 §8: an agent killed (SIGKILL) while it copies a large backup leaves `<id>.partial` in the
// backups directory. `duck backups` counts it (with --all, lists it with its size) and says when it
// goes; the next writer start removes it, and the backup change the kill interrupted is finished.
import { spawn } from 'node:child_process';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import type { DuckResult } from '../../examples/harness/agent-node.js';
import { DUCK_BIN } from '../../examples/harness/agent-node.js';
import { requireDocker, uniqueProjectName } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { startHelloScenario } from '../helpers/hello-channel.js';

await requireDocker();

const Kill = suite<{ s: HelloScenario }>('SIGKILL during a backup (real engine)', {} as { s: HelloScenario });
/** Large enough that the copy takes a while: the kill lands while `<id>.partial` is being written. */
const BIG_BYTES = 300 * 1024 * 1024;

Kill.before(async (ctx) => {
  try {
    ctx.s = await startHelloScenario({ prefix: 'duck-e2e-backupkill-', app: uniqueProjectName('hello'), releases: { '1.0.0': {} } });
    await ctx.s.ch.write('groups/production.yaml', stringify({ apps: { [ctx.s.app]: '1.0.0' } }));
    await ctx.s.ch.commit(`${ctx.s.app} 1.0.0`, ctx.s.key);
    await ctx.s.ch.publish();
    await duck(ctx.s, 'run', '--once');
    await writeFile(ctx.s.dataFile('big.bin'), Buffer.alloc(BIG_BYTES, 7));
  } catch (err) {
    console.error('backup-kill setup failed:', err);
    throw err;
  }
});

Kill.after(async (ctx) => {
  await ctx.s?.close();
});

async function duck(s: HelloScenario, ...args: string[]): Promise<DuckResult> {
  const r = await s.node.duck(...args);
  assert.is(r.code, 0, `duck ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r;
}

const backupsDir = (s: HelloScenario): string => join(s.node.stateDir, 'backups');

async function partials(s: HelloScenario): Promise<string[]> {
  return (await readdir(backupsDir(s)).catch(() => [])).filter((n) => n.endsWith('.partial'));
}

async function partialBytes(s: HelloScenario): Promise<number> {
  let total = 0;
  for (const name of await partials(s)) {
    const files = await readdir(join(backupsDir(s), name), { recursive: true, withFileTypes: true }).catch(() => []);
    for (const f of files) if (f.isFile()) total += (await stat(join(f.parentPath, f.name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/** `duck backup` in a child this test kills with SIGKILL as soon as its unfinished copy appears. */
async function killDuringBackup(s: HelloScenario): Promise<void> {
  const child = spawn(process.execPath, [DUCK_BIN, 'backup', s.app, '--config', s.node.configFile], { cwd: s.node.dir, stdio: 'ignore' });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  let ended = false;
  void exited.then(() => (ended = true));
  // Killed once the copy holds bytes: a kill as the empty directory appears would leave nothing to count.
  while ((await partialBytes(s)) === 0) {
    assert.not.ok(ended, 'duck backup ended before its copy began');
    await sleep(5);
  }
  child.kill('SIGKILL');
  assert.is(await exited, 'SIGKILL');
}

Kill('a backup killed mid-copy leaves <id>.partial: duck backups counts it, the next agent start removes it', async (ctx) => {
  const { s } = ctx;
  await killDuringBackup(s);
  const left = await partials(s);
  assert.is(left.length, 1, 'the kill left the unfinished copy');

  const text = await duck(s, 'backups', '--all');
  assert.match(text.stdout, /1 partial leftover, [\d.]+ (bytes|[KMG]iB), removed when the agent next starts/);
  assert.ok(text.stdout.includes(left[0]!), 'listed by name with --all');
  const json = (await duck(s, 'backups', '--all', '--json')).json!;
  const partial = json.partial as { count: number; bytes: number; leftovers: Array<{ name: string; bytes: number }> };
  assert.is(partial.count, 1);
  assert.ok(partial.bytes > 0, 'its size is counted');
  assert.equal(partial.leftovers.map((p) => p.name), left);
  assert.not.ok((json.backups as Array<{ id: string }>).some((b) => left[0]!.startsWith(b.id)), 'never listed as a backup');

  // The next writer start: leftovers go first, then the interrupted `duck backup` is finished.
  await duck(s, 'run', '--once');
  assert.equal(await partials(s), [], 'removed at the next start');
  const after = (await duck(s, 'backups', '--json')).json!;
  assert.is((after.partial as { count: number }).count, 0);
  const state = await s.readState();
  assert.equal(state.journal, {}, 'the interrupted backup change is finished');
  assert.is(await s.served(), '1.0.0', 'the app runs again');
});

Kill.run();
