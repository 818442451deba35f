/**
 * `npm run demo`: Duck's whole loop on this machine's Docker engine (see examples/demo/README.md).
 *
 *   node --import tsx examples/demo/main.ts [--ci]
 *
 * Interactive (the default): after the last stage everything keeps running, with the dashboard's
 * URL on screen, until Ctrl-C. `--ci` (or CI=true): no waiting, a `DEMO-STAGE {...}` line per
 * stage, exit 0 after the last one. Either way everything the demo started is removed on exit.
 * Exit codes: 0 done, 1 a stage failed, 3 the machine lacks what the demo needs, 130/143 stopped
 * by SIGINT/SIGTERM.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { removeTempDir } from '../harness/tmp.js';
import { Cleanup } from './cleanup.js';
import { Narrator, seconds } from './narrator.js';
import { PrerequisiteError } from './prerequisites.js';
import { DemoStory, STAGES } from './story.js';

// The bins and the template are found from the project root, wherever the demo was started.
process.chdir(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));

const { values } = parseArgs({ options: { ci: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log('usage: npm run demo [-- --ci]\n  --ci  non-interactive: a DEMO-STAGE line per stage, exit 0 after the last one');
  process.exit(0);
}
const ci = values.ci || process.env.CI === 'true' || process.env.CI === '1';

const narrator = new Narrator(STAGES.length, ci);
const cleanup = new Cleanup();
let shuttingDown: Promise<never> | null = null;

/**
 * Runs the cleanup once, then exits with `code`. Every later call (the story failing because its
 * processes went away, the story ending) gets the same promise, so the first reason wins and the
 * cleanup is never cut short.
 */
function shutdown(code: number): Promise<never> {
  shuttingDown ??= (async () => {
    // A stage still running while its processes are stopped would only print noise.
    narrator.silence();
    narrator.note('');
    narrator.note('Cleaning up what the demo started (images are kept)...');
    const problems = await cleanup.run((l) => narrator.note(l));
    if (problems.length > 0) narrator.note(`Cleanup left problems behind:\n  ${problems.join('\n  ')}`);
    else narrator.note('Everything the demo started is gone.');
    process.exit(code === 0 && problems.length > 0 ? 1 : code);
  })();
  return shuttingDown;
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    // A second Ctrl-C while cleaning up: the operator wants out now.
    if (shuttingDown) process.exit(code);
    void shutdown(code);
  });
}

const work = await mkdtemp(join(tmpdir(), 'duck-demo-'));
cleanup.add(`remove ${work}`, () => removeTempDir(work));
narrator.note('Duck demo: a signed release channel, one agent, one controller and the hello app on this machine.');
narrator.note(`Scratch files: ${work}${ci ? ' (CI mode: no waiting)' : ''}`);

const story = new DemoStory(narrator, cleanup, work);
const started = performance.now();
try {
  await story.run();
} catch (err) {
  // The stage's line said what failed (and the engine stage what to install); the stack is for
  // whoever debugs the demo itself.
  if (!shuttingDown && !(err instanceof PrerequisiteError)) {
    narrator.note(`\nThe demo stopped at a failed stage.${process.env.DUCK_DEMO_DEBUG ? `\n${(err as Error).stack}` : ' (DUCK_DEMO_DEBUG=1 shows the stack)'}`);
  }
  await shutdown(err instanceof PrerequisiteError ? 3 : 1);
}
if (shuttingDown) await shuttingDown;

narrator.note('');
narrator.note(`All ${STAGES.length} stages done in ${seconds(performance.now() - started)}.`);
if (ci) await shutdown(0);
const { dashboard, adminToken, agentConfig } = story.handles();
narrator.note(`The dashboard: ${dashboard}  (log in with the admin token ${adminToken})`);
narrator.note('Everything keeps running. Ask the agent, or change its overlay, for instance:');
narrator.note(`  node dist/agent/bundle/main.mjs status --config ${agentConfig}`);
narrator.note(`  node dist/agent/bundle/main.mjs unpin hello --config ${agentConfig}`);
narrator.note('Press Ctrl-C to stop the demo and remove everything it started.');
// Alive until SIGINT/SIGTERM: the agent, controller and git server hold the event loop open, and
// this timer keeps it open even if one of them exits.
setInterval(() => undefined, 60_000);
