// The "done when", watched from outside: `duck run` left running through install,
// upgrade, a broken release and a revert, while a client polls the app every 100 ms. The app is
// down only while a change is in progress, serves the broken version only during its own
// attempt, and ends on the reverted version with its data as written.
import { appendFile, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Daemon, LogEvent } from '../../examples/harness/daemon.js';
import { startDaemon } from '../../examples/harness/daemon.js';
import { requireDocker } from '../helpers/docker.js';
import type { HelloScenario } from '../helpers/hello-channel.js';
import { promoteHello, startHelloScenario } from '../helpers/hello-channel.js';

await requireDocker();

interface Sample {
  at: number;
  version: string | null;
}

interface Ctx {
  s: HelloScenario;
  daemon: Daemon;
}

const Watch = suite<Ctx>('duck run left running through the whole scenario (real engine)', {} as Ctx);

Watch.before(async (ctx) => {
  ctx.s = await startHelloScenario({ prefix: 'duck-e2e-daemon-', releases: { '1.0.0': {}, '1.1.0': {}, '1.2.0': { healthTimeout: '10s' } } });
});

Watch.after(async (ctx) => {
  await ctx.daemon?.stop(5_000);
  await ctx.s?.close();
});

/** Polls the app until stopped; each sample is the served version or null (down). */
function startPoller(s: HelloScenario): { samples: Sample[]; stop(): Promise<void> } {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      const version = await Promise.race([s.served().catch(() => null), sleep(1_000).then(() => null)]);
      samples.push({ at, version });
      await sleep(Math.max(0, 100 - (Date.now() - at)));
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** [start, end] of each change, from the daemon's own log lines (`change` ... `outcome`). */
function changeWindows(events: LogEvent[]): Array<{ from: number; to: number; target: string; outcome: string }> {
  const windows: Array<{ from: number; to: number; target: string; outcome: string }> = [];
  let open: LogEvent | null = null;
  for (const e of events) {
    if (e.event === 'change') open = e;
    if (e.event === 'outcome' && open) {
      windows.push({ from: Date.parse(String(open.time)), to: Date.parse(String(e.time)), target: String(e.to), outcome: String(e.outcome) });
      open = null;
    }
  }
  return windows;
}

Watch('the app is down only during a change, and its data is never lost', async (ctx) => {
  const { s } = ctx;
  const commits: Record<string, string> = {};
  commits['1.0.0'] = await promoteHello(s.ch, '1.0.0', s.key);
  ctx.daemon = startDaemon(s.node);
  let seen = 0;
  const outcome = (to: string, what: string) =>
    ctx.daemon.waitFor((e) => e.event === 'outcome' && e.to === to && (what === 'any' || e.outcome === what), `${what} -> ${to}`, { timeoutMs: 120_000, from: seen });
  await outcome('1.0.0', 'applied');
  await appendFile(s.dataFile('orders.txt'), 'order 1\n');
  const poller = startPoller(s);
  await sleep(1_000);

  const step = async (version: string, expected: string, publish: () => Promise<void>): Promise<void> => {
    seen = ctx.daemon.events.length;
    await publish();
    const check = await s.node.duck('check');
    assert.is(check.code, 0, check.stderr);
    await outcome(version, expected);
    await sleep(1_000);
  };
  await step('1.1.0', 'applied', async () => void (commits['1.1.0'] = await promoteHello(s.ch, '1.1.0', s.key)));
  await appendFile(s.dataFile('orders.txt'), 'order 2\n');
  await step('1.2.0', 'rolled-back', async () => void (commits['1.2.0'] = await promoteHello(s.ch, '1.2.0', s.key)));
  await step('1.0.0', 'applied', async () => {
    await s.ch.revert(commits['1.2.0']!, s.key);
    await s.ch.revert(commits['1.1.0']!, s.key);
    await s.ch.publish();
  });
  await poller.stop();

  const windows = changeWindows(ctx.daemon.events);
  assert.equal(
    windows.map((w) => [w.target, w.outcome]),
    [
      ['1.0.0', 'applied'],
      ['1.1.0', 'applied'],
      ['1.2.0', 'rolled-back'],
      ['1.0.0', 'applied'],
    ],
  );
  // A sample is taken at `at` and may take up to a second: it belongs to a change if it overlaps one.
  const during = (sample: Sample, target?: string) => windows.some((w) => (!target || w.target === target) && sample.at <= w.to + 100 && sample.at + 1_000 >= w.from);
  const down = poller.samples.filter((x) => x.version === null);
  assert.ok(down.length > 0, 'the poller saw the changes happen (else it measured nothing)');
  assert.equal(down.filter((x) => !during(x)), [], 'down only while a change was in progress');
  assert.equal(poller.samples.filter((x) => x.version === '1.2.0' && !during(x, '1.2.0')), [], 'the broken version served only during its own attempt');
  const served = poller.samples.map((x) => x.version).filter((v): v is string => v !== null && v !== '1.2.0');
  assert.equal(served.filter((v, i) => v !== served[i - 1]), ['1.0.0', '1.1.0', '1.0.0'], 'what the client saw, in order');
  assert.is(poller.samples.at(-1)!.version, '1.0.0');
  assert.is(await readFile(s.dataFile('orders.txt'), 'utf8'), 'order 1\norder 2\n');
  assert.is(await ctx.daemon.stop(), 0);
});

Watch.run();
