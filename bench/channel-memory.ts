// Peak memory of `duck verify` (DESIGN §3: a refused object costs at most the cap) on a channel
// whose tip adds a 96 MiB compose.yaml of zeros — it compresses to almost nothing, so the download
// passes limits.maxFetchBytes — against the same command on the channel without that commit,
// measured in the same run. The figure is the child's peak RSS (VmHWM), never asserted.
import { DUCK_BIN } from '../examples/harness/agent-node.js';
import type { AgentNode } from '../examples/harness/agent-node.js';
import { startChannelHost } from '../test/helpers/channel-builder.js';
import { publishBasicChannel, writeGroup, writeRelease } from '../test/helpers/channel-fixtures.js';
// Types only: index.ts runs the benchmarks when loaded, so a value import here would be a cycle.
import type { BenchReport, Sample } from './index.js';
import { runMeasured } from './process-peak.js';

const HUGE_BYTES = 96 * 1024 * 1024;
const RUNS = 3;
const progress = (message: string): void => void process.stderr.write(`[channel-memory] ${message}\n`);

export async function benchChannelMemory(): Promise<BenchReport> {
  const host = await startChannelHost('duck-bench-memory-');
  try {
    const small = await host.channel('small');
    await publishBasicChannel(small.ch, host.rootKey);
    const huge = await host.channel('huge');
    await publishBasicChannel(huge.ch, host.rootKey);
    progress(`committing a ${HUGE_BYTES / 1024 / 1024} MiB compose.yaml of zeros`);
    await writeRelease(huge.ch, 'shop', '2.0.0', { 'compose.yaml': Buffer.alloc(HUGE_BYTES) });
    await writeGroup(huge.ch, 'production', { shop: '2.0.0' });
    await huge.ch.commit('a huge compose file', host.rootKey);
    await huge.ch.publish();

    const duck: Sample[] = [];
    const baseline: Sample[] = [];
    for (let i = 0; i < RUNS; i++) {
      progress(`run ${i + 1}/${RUNS}`);
      // A new node each run: the first verify fetches the whole channel, as a fresh node does.
      baseline.push({ ms: await peakOf(await host.node(small.url), 0) });
      duck.push({ ms: await peakOf(await host.node(huge.url), 3) });
    }
    return {
      title: 'channel-memory: peak RSS of duck verify (MiB), a tip adding a 96 MiB zero blob vs a small channel',
      baseline: 'small channel',
      unit: 'MiB',
      rows: [{ label: 'duck verify, refused too-large', duck, git: baseline, gitCommand: 'duck verify on the same channel without the huge commit (accepted)' }],
      notes: [
        'Default limits (maxFileBytes 16 MiB, maxFetchBytes 512 MiB). Peak RSS is the child process VmHWM, polled every 10 ms.',
        'Before the size checks (main at acc14aa, same machine): 480 MiB against 92 MiB for the small channel (5.2x), the blob inflated in memory by the fetch and again by the verify.',
      ],
    };
  } finally {
    await host.close();
  }
}

/** The peak RSS in MiB of `duck verify --json` on `node`; throws unless it exits with `expected`. */
async function peakOf(node: AgentNode, expected: number): Promise<number> {
  const r = await runMeasured(process.execPath, [DUCK_BIN, 'verify', '--json', '--config', node.configFile], { cwd: node.dir });
  if (r.code !== expected) throw new Error(`duck verify exited ${r.code}, expected ${expected}: ${(r.stdout + r.stderr).slice(-400)}`);
  if (r.peakMiB === 0) throw new Error('no VmHWM was read (is /proc mounted?)');
  return r.peakMiB;
}
