// `npm run demo` in CI mode, as a newcomer would run it, on the real engine: every stage of the
// story ends ok and in order, the demo exits 0, and nothing it started outlives it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { STAGE_LINE_PREFIX } from '../../examples/demo/narrator.js';
import type { StageRecord } from '../../examples/demo/narrator.js';
import { STAGES } from '../../examples/demo/story.js';
import { projectContainers } from '../../examples/harness/compose-project.js';
import { requireDocker } from '../helpers/docker.js';
import { HELLO_PROJECT } from '../../examples/hello/app.js';
import { run } from '../../examples/harness/tmp.js';

await requireDocker();

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEMO_MAIN = join(ROOT, 'examples', 'demo', 'main.ts');
/** The whole story takes one to three minutes; a hung stage must not hang the tier. */
const DEMO_TIMEOUT_MS = 10 * 60_000;

interface DemoRun {
  code: number | null;
  signal: string | null;
  output: string;
}

function runDemo(): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', DEMO_MAIN, '--ci'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    // SIGTERM first: the demo cleans up on it, so even a timed-out run leaves nothing behind.
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 120_000).unref();
    }, DEMO_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

function stageRecords(output: string): StageRecord[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith(STAGE_LINE_PREFIX))
    .map((l) => JSON.parse(l.slice(STAGE_LINE_PREFIX.length)) as StageRecord);
}

/** The first http://127.0.0.1:PORT after `label` in the demo's output. */
function urlAfter(output: string, label: string): string | null {
  return new RegExp(`${label}\\S*\\s+(http://127\\.0\\.0\\.1:\\d+)`).exec(output)?.[1] ?? null;
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(3_000) });
    return true;
  } catch {
    return false;
  }
}

async function keepOutput(output: string): Promise<void> {
  const dir = process.env.DUCK_TEST_ARTIFACTS;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'demo.log'), output);
}

const Demo = suite<{ result: DemoRun }>('npm run demo -- --ci (real engine)', {} as { result: DemoRun });

Demo.before(async (ctx) => {
  ctx.result = await runDemo();
  await keepOutput(ctx.result.output);
});

Demo('runs every stage of the story, ok and in order, and exits 0', ({ result }) => {
  const tail = result.output.slice(-6_000);
  const records = stageRecords(result.output);
  const failed = records.find((r) => !r.ok);
  assert.not.ok(failed, `stage ${failed?.stage} failed: ${failed?.error}\n${tail}`);
  assert.equal(records.map((r) => r.stage), [...STAGES], `the stages, in order\n${tail}`);
  for (const r of records) assert.ok(Number.isInteger(r.ms) && r.ms >= 0, `stage ${r.stage} says how long it took`);
  assert.is(result.code, 0, `exit code (signal ${result.signal})\n${tail}`);
});

Demo('leaves nothing behind: no duck-hello containers or volumes, no controller, no git server, no temp dirs', async ({ result }) => {
  assert.equal(await projectContainers(HELLO_PROJECT), [], 'duck-hello containers');
  const volumes = (await run('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=${HELLO_PROJECT}`])).stdout.toString('utf8').trim();
  assert.is(volumes, '', 'duck-hello volumes');
  const controller = urlAfter(result.output, 'duck-controller serve:');
  assert.ok(controller, 'the demo said where its controller listened');
  assert.not.ok(await answers(`${controller}/`), `the controller at ${controller} still answers`);
  const gitServer = /served over git smart HTTP \(git http-backend\) at (http:\/\/127\.0\.0\.1:\d+)/.exec(result.output)?.[1];
  assert.ok(gitServer, 'the demo said where it served the channel');
  assert.not.ok(await answers(`${gitServer}/`), `the git server at ${gitServer} still answers`);
  const scratch = /Scratch files: (\S+)/.exec(result.output)?.[1];
  assert.ok(scratch, 'the demo named its scratch directory');
  assert.not.ok(existsSync(scratch!), `${scratch} is gone`);
  const agentDir = /duck run --config (\S+)\/agent\.yaml/.exec(result.output)?.[1];
  assert.ok(agentDir, "the demo named its agent's config");
  assert.not.ok(existsSync(agentDir!), `the agent's ${agentDir} is gone`);
});

Demo.run();
