// A release of thousands of files (DESIGN §2: every file listed with its sha256) verified by a node,
// against native git reading the same objects in the same run. Before the tree index (issue 13)
// every path was looked up from the root with a linear scan, so 2,000 files took seconds and every
// poll paid it again.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { NodeParts } from '../agent/src/node/wiring.js';
import { checkChannel } from '../agent/src/node/cycle.js';
import { wireNode } from '../agent/src/node/wiring.js';
import type { AgentNode } from '../examples/harness/agent-node.js';
import { makeAgentNode } from '../examples/harness/agent-node.js';
import { makeOpenpgpKey } from '../examples/harness/keys.js';
import type { GitServer } from '../examples/harness/git-http-server.js';
import { startGitServer } from '../examples/harness/git-http-server.js';
import { makeTempDir, removeTempDir, run } from '../examples/harness/tmp.js';
import { createChannel, isolatedGitEnv } from '../test/helpers/channel-builder.js';
import { writeChannelYaml, writeGroup, writeRelease } from '../test/helpers/channel-fixtures.js';
// Types only: index.ts runs the benchmarks when loaded, so a value import here would be a cycle.
import type { BenchReport, Comparison, Sample } from './index.js';

export interface LargeReleaseOptions {
  /** Files in the large release (release.yaml aside). */
  files?: number;
  runs?: number;
}

const progress = (message: string): void => void process.stderr.write(`[channel-large-release] ${message}\n`);

export async function benchLargeRelease(opts: LargeReleaseOptions = {}): Promise<BenchReport> {
  const count = opts.files ?? 2000;
  const runs = opts.runs ?? 3;
  const root = await makeTempDir('duck-bench-large-');
  const nodes: AgentNode[] = [];
  let server: GitServer | null = null;
  const ch = await createChannel({ serverRoot: join(root, 'srv') });
  try {
    progress(`writing a release of ${count} files`);
    const key = await makeOpenpgpKey('release-bot');
    await writeChannelYaml(ch, { version: 1, signers: [key] });
    // 50 directories of files, as a real release with a config tree would have them.
    const files: Record<string, string> = {};
    for (let i = 0; i < count; i++) files[`conf/d${String(i % 50).padStart(2, '0')}/f${String(i).padStart(5, '0')}.txt`] = `file ${i}\n`;
    await writeRelease(ch, 'big', '1.0.0', files);
    let shop = 0;
    const shopVersion = (): string => `1.${shop}.0`;
    await writeRelease(ch, 'shop', shopVersion());
    await writeGroup(ch, 'production', { big: '1.0.0', shop: shopVersion() });
    await ch.commit('big 1.0.0 and shop in production', key);
    await ch.publish();
    server = await startGitServer({ root: join(root, 'srv') });
    const url = server.url('channel.git');
    const limits = { maxReleaseFiles: count + 10 };

    const first = comparison('first verify', 'git clone --bare + git cat-file --batch-all-objects --batch');
    const unchanged = comparison('re-verify, tip unchanged', 'git fetch (nothing new)');
    const newTip = comparison('re-verify, new tip (other app)', 'git fetch (one commit)');
    for (let i = 0; i < runs; i++) {
      progress(`run ${i + 1} of ${runs}`);
      const node = await makeAgentNode({ url, rootKeys: [key], group: 'production', limits });
      nodes.push(node);
      const parts = await wireNode({ configFile: node.configFile });
      const clone = join(root, `git-clone-${i}`);
      first.duck.push((await timed(server, () => verify(parts), (r) => r.changed && r.content.releases.big?.files.length === count)).sample);
      first.git.push((await timed(server, async () => {
        await git('clone', '--bare', '--quiet', url, clone);
        await git('-C', clone, 'cat-file', '--batch-all-objects', '--batch');
      })).sample);

      unchanged.duck.push((await timed(server, () => verify(parts), (r) => !r.fetched && !r.changed)).sample);
      unchanged.git.push((await timed(server, () => gitFetch(clone, url))).sample);

      shop++;
      await writeRelease(ch, 'shop', shopVersion());
      await writeGroup(ch, 'production', { big: '1.0.0', shop: shopVersion() });
      await ch.commit(`shop ${shopVersion()}`, key);
      await ch.publish();
      newTip.duck.push((await timed(server, () => verify(parts), (r) => r.fetched && r.changed && r.content.releases.shop?.version === shopVersion())).sample);
      newTip.git.push((await timed(server, () => gitFetch(clone, url))).sample);
    }
    return {
      title: `channel with a release of ${count} files (limits.maxReleaseFiles ${limits.maxReleaseFiles}) and one small app`,
      rows: [first, unchanged, newTip],
      notes: [`medians; duck = checkChannel() in this process on a fresh node per run, kept open for its re-verifies; git = native git spawned`],
    };
  } finally {
    await server?.close();
    await ch.dispose();
    for (const node of nodes) await removeTempDir(node.dir);
    await removeTempDir(root);
  }
}

type Checked = Awaited<ReturnType<typeof checkChannel>>;

function verify(node: NodeParts): Promise<Checked> {
  return checkChannel({ node, log: () => undefined });
}

function comparison(label: string, gitCommand: string): Comparison {
  return { label, duck: [], git: [], gitCommand };
}

async function timed<T>(server: GitServer, body: () => Promise<T>, check?: (result: T) => boolean): Promise<{ sample: Sample; result: T }> {
  server.resetLog();
  const start = performance.now();
  const result = await body();
  const ms = performance.now() - start;
  if (check && !check(result)) throw new Error('benchmark precondition: the verify did not do what the scenario measures');
  return { sample: { ms, requests: server.requests.length, bytes: server.requests.reduce((n, r) => n + r.bytesOut, 0) }, result };
}

function git(...args: string[]): Promise<unknown> {
  return run('git', ['-c', 'gc.auto=0', ...args], { env: isolatedGitEnv() });
}

function gitFetch(clone: string, url: string): Promise<unknown> {
  return git('-C', clone, 'fetch', '--quiet', url, '+refs/heads/main:refs/heads/main');
}
