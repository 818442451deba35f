// Issue 15's figures for self-update, with the real artifact (`npm run build:artifact`: the pinned
// node + the bundle) on both sides of the update: its size beside what a bundle-only update would
// download; the bytes the file server sent for one update; and the time from the signed commit
// asking the new version being pushed to the new agent being healthy, against unpacking the same
// artifact and starting it on the same node until its first heartbeat. The whole loop is the
// integration test's (test/integration/self-update-channel.test.ts): the detached service manager,
// a daemon that decides the update in its cycle, the updater outside it. No apps run: the daemon's
// Docker ping is the only use of the engine.
import { cp, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { detachedServiceManager } from '../agent/src/adapters/service-detached.js';
import type { AgentBuildState, AgentHeartbeat } from '../agent/src/core/agent-build.js';
import type { UpdateJournal } from '../agent/src/core/agent-update.js';
import { makeTempDir, removeTempDir, run } from '../examples/harness/tmp.js';
import { buildArtifacts } from '../packaging/build-artifacts.js';
import { releaseYaml } from '../test/helpers/agent-builds.js';
import { startChannelHost, type ChannelHost } from '../test/helpers/channel-builder.js';
import { sha256, writeChannelYaml, writeGroup } from '../test/helpers/channel-fixtures.js';
import { startFileServer, type FileServer } from '../test/helpers/file-server.js';
// Types only: index.ts runs the benchmarks when loaded, so a value import here would be a cycle.
import type { BenchReport, Sample } from './index.js';

const RUNS = 3;
/** The daemon's poll interval: the update is decided in the first cycle after the commit lands. */
const INTERVAL = '2s';
const FROM = '1.0.0';
const TO = '1.0.1';
const PLATFORM = `linux-${process.arch}`;
const progress = (message: string): void => void process.stderr.write(`[self-update] ${message}\n`);

interface Builds {
  readonly dir: string;
  /** `npm run build:artifact`'s agent tarball and its unpacked directory. */
  readonly tarball: string;
  readonly unpacked: string;
  /** The same artifact as versions FROM (a directory) and TO (a tarball the file server serves). */
  readonly from: string;
  readonly to: { file: string; name: string; sha256: string; size: number };
}

async function prepareBuilds(): Promise<Builds> {
  const dir = await makeTempDir('duck-bench-self-update-');
  const [agent] = buildArtifacts({ arch: process.arch, node: process.execPath, outDir: join(dir, 'artifact') }).filter((a) => a.name === 'duck');
  const from = await versioned(agent!.dir, join(dir, 'builds'), FROM);
  const toDir = await versioned(agent!.dir, join(dir, 'served'), TO);
  const name = `duck-${TO}-${PLATFORM}.tar.gz`;
  const file = join(dir, 'served', name);
  // The flags buildArtifacts packs with: the served tarball is the artifact but for package.json's version.
  await run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--use-compress-program=gzip -n', '-cf', file, '-C', join(dir, 'served'), toDir.slice(join(dir, 'served').length + 1)]);
  const bytes = await readFile(file);
  return { dir, tarball: agent!.tarball, unpacked: agent!.dir, from, to: { file, name, sha256: sha256(bytes), size: bytes.length } };
}

/** A copy of the artifact directory whose package.json names `version` (what `--version` and the updater read). */
async function versioned(artifact: string, parent: string, version: string): Promise<string> {
  const dir = join(parent, `duck-${version}-${PLATFORM}`);
  await cp(artifact, dir, { recursive: true });
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ ...pkg, version }, null, 2)}\n`);
  return dir;
}

async function gzipBytes(command: string): Promise<number> {
  return Number((await run('sh', ['-c', `${command} | wc -c`])).stdout.toString('utf8').trim());
}

interface UpdateRun {
  /** Pushed -> the new agent's first heartbeat; pushed -> the updater's journal says applied. */
  heartbeat: number;
  applied: number;
  /** Pushed -> the updater started; started -> switched (download, stage, self-test, old agent stopped); switched -> applied (restart, health wait). */
  decided: number;
  staged: number;
  healthWait: number;
  /** Body bytes the file server sent, and in how many requests. */
  bytes: number;
  requests: number;
  /** The floor on the same node after the update: tar xzf + start until the first heartbeat; of it, tar xzf. */
  baseline: number;
  unpack: number;
}

async function readJson<T>(file: string): Promise<T | null> {
  return (JSON.parse(await readFile(file, 'utf8').catch(() => 'null')) as T | null);
}

/** Polls `read` every 50 ms until it gives a value; fails after `what` took more than 5 minutes. */
async function until<T>(read: () => Promise<T | null | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 6000; i++) {
    const value = await read().catch(() => null);
    if (value !== null && value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`self-update bench: ${what}`);
}

async function oneUpdate(host: ChannelHost, files: FileServer, builds: Builds, n: number): Promise<UpdateRun> {
  const work = join(builds.dir, `run-${n}`);
  const buildsDir = join(work, 'builds');
  const { ch, node } = await host.fresh({ interval: INTERVAL });
  await writeChannelYaml(ch, { version: 1, signers: [host.rootKey] });
  await writeGroup(ch, 'production', {});
  await ch.commit('an empty group', host.rootKey);
  await ch.publish();
  const config = parse(await readFile(node.configFile, 'utf8')) as Record<string, unknown>;
  config.selfUpdate = { serviceManager: 'detached', buildsDir, healthTimeout: '120s' };
  await writeFile(node.configFile, stringify(config));
  await mkdir(buildsDir, { recursive: true });
  await cp(builds.from, join(buildsDir, FROM), { recursive: true });
  await symlink(FROM, join(buildsDir, 'current'));
  const state = join(node.stateDir, 'state.json');
  const heartbeat = async (): Promise<AgentHeartbeat | null> => (await readJson<{ agentBuild: AgentBuildState }>(state))?.agentBuild.heartbeat ?? null;
  const service = detachedServiceManager({ stateDir: node.stateDir, launcher: join(buildsDir, 'current', 'duck'), configFile: node.configFile, logFile: join(work, 'agent.log') });
  await service.startAgent();
  try {
    const old = await until(async () => ((await heartbeat())?.version === FROM ? (await heartbeat())! : null), `agent ${FROM} never beat`);
    files.resetLog();
    // One signed commit publishes the release and asks the group for it: "the new version published".
    await ch.write(`agents/${TO}/agent.yaml`, releaseYaml(TO, { url: files.url(builds.to.name), sha256: builds.to.sha256, size: builds.to.size }));
    await writeGroup(ch, 'production', {}, { agent: { version: TO } });
    await ch.commit(`production runs agent ${TO}`, host.rootKey);
    await ch.publish();
    const published = Date.now();
    const journalFile = join(node.stateDir, 'self-update', 'journal.json');
    const ended = await until(async () => {
      const j = await readJson<UpdateJournal>(journalFile);
      return j && j.to === TO && j.outcome !== 'running' ? j : null;
    }, `no self-update to ${TO} ended`);
    if (ended.outcome !== 'applied') throw new Error(`self-update bench: the update to ${TO} ended ${ended.outcome}: ${ended.reason}`);
    const beat = (await heartbeat())!;
    if (beat.version !== TO || beat.pid === old.pid) throw new Error(`self-update bench: applied, but the heartbeat is ${beat.version} pid ${beat.pid}`);
    const served = files.requestsFor(builds.to.name);
    const run: Omit<UpdateRun, 'baseline' | 'unpack'> = {
      heartbeat: Date.parse(beat.at) - published,
      applied: Date.parse(ended.endedAt!) - published,
      decided: Date.parse(ended.startedAt) - published,
      staged: Date.parse(ended.switchedAt!) - Date.parse(ended.startedAt),
      healthWait: Date.parse(ended.endedAt!) - Date.parse(ended.switchedAt!),
      bytes: served.reduce((sum, r) => sum + r.bytesOut, 0),
      requests: served.length,
    };
    await service.stopAgent();
    return { ...run, ...(await unpackAndStart(builds, work, node, beat.pid, heartbeat)) };
  } finally {
    await service.stopAgent().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The floor of any update of this node: unpack the artifact it would download and start it on the
 * same state (the tip already accepted, as the updated agent finds it) until its first heartbeat.
 */
async function unpackAndStart(builds: Builds, work: string, node: { stateDir: string; configFile: string }, lastPid: number, heartbeat: () => Promise<AgentHeartbeat | null>): Promise<{ baseline: number; unpack: number }> {
  const into = join(work, 'unpacked');
  await mkdir(into, { recursive: true });
  const started = Date.now();
  await run('tar', ['xzf', builds.to.file, '-C', into, '--strip-components=1']);
  const unpack = Date.now() - started;
  const service = detachedServiceManager({ stateDir: node.stateDir, launcher: join(into, 'duck'), configFile: node.configFile, logFile: join(work, 'baseline.log') });
  await service.startAgent();
  try {
    const beat = await until(async () => {
      const b = await heartbeat();
      return b && b.pid !== lastPid && Date.parse(b.at) >= started ? b : null;
    }, 'the unpacked artifact never beat');
    return { baseline: Date.parse(beat.at) - started, unpack };
  } finally {
    await service.stopAgent();
  }
}

export async function benchSelfUpdate(): Promise<BenchReport> {
  const builds = await prepareBuilds();
  const files = await startFileServer({ root: join(builds.dir, 'served') });
  const host = await startChannelHost('duck-bench-self-update-git-');
  try {
    const runs: UpdateRun[] = [];
    for (let i = 0; i < RUNS; i++) {
      progress(`update ${FROM} -> ${TO}, run ${i + 1}/${RUNS}`);
      runs.push(await oneUpdate(host, files, builds, i));
    }
    const artifact = (await stat(builds.tarball)).size;
    const bundle = await gzipBytes(`tar --sort=name --owner=0 --group=0 --numeric-owner -cf - -C "${builds.unpacked}" lib | gzip -n -c`);
    const runtime = await gzipBytes(`gzip -n -c "${join(builds.unpacked, 'node')}"`);
    const bytes = (n: number): Sample[] => [{ ms: n }];
    const samples = (pick: (r: UpdateRun) => number): Sample[] => runs.map((r) => ({ ms: pick(r) }));
    const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    const seconds = (values: number[]): string => `${([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]! / 1000).toFixed(2)} s`;
    return {
      title: 'self-update: the self-contained agent updating itself through the channel (pinned node + bundle)',
      baseline: 'baseline',
      rows: [
        { label: 'artifact size (tar.gz), vs the bundle alone', unit: 'bytes', duck: bytes(artifact), git: bytes(bundle), gitCommand: 'lib/ alone, tar | gzip -n: what a bundle-only update would download instead' },
        { label: 'artifact size (tar.gz), vs the runtime alone', unit: 'bytes', duck: bytes(artifact), git: bytes(runtime), gitCommand: 'the pinned node alone, gzip -n' },
        {
          label: 'download per self-update, vs the artifact',
          unit: 'bytes',
          duck: samples((r) => r.bytes),
          git: bytes(builds.to.size),
          gitCommand: `the served artifact's size (${builds.to.size} B): the file server's body bytes for it, per update`,
        },
        { label: 'published -> new agent heartbeat', duck: samples((r) => r.heartbeat), git: samples((r) => r.baseline), gitCommand: 'tar xzf of the artifact + duck run on the same node to its first heartbeat' },
        { label: 'published -> updater journal applied', duck: samples((r) => r.applied), git: samples((r) => r.baseline), gitCommand: 'tar xzf of the artifact + duck run on the same node to its first heartbeat' },
      ],
      notes: [
        `artifact ${mib(artifact)} = bundle (lib/) ${mib(bundle)} + node runtime ${mib(runtime)} (each gzip -n alone), plus the launcher and template.`,
        `The real artifact (buildArtifacts, pinned node ${process.version}) on both sides, only package.json's version set to ${FROM} and ${TO}; detached service manager; poll interval ${INTERVAL}; ${RUNS} runs, each on a fresh node.`,
        `"published": ch.publish() of the one signed commit that adds agents/${TO}/agent.yaml and asks production for it; "healthy": the new agent's heartbeat (after a poll, a verified channel, a Docker ping) and the updater's journal outcome applied.`,
        `Requests for the artifact per update: ${runs.map((r) => r.requests).join(', ')} (the file server's log; a resumed download would show more).`,
        `Medians from the updater's journal: published -> updater started ${seconds(runs.map((r) => r.decided))} (the next poll, up to ${INTERVAL}, and its cycle); started -> switched (download, sha256, unpack, self-test, the old agent stopped) ${seconds(runs.map((r) => r.staged))}; switched -> applied (the new agent started, one healthy cycle) ${seconds(runs.map((r) => r.healthWait))}.`,
        `Of the baseline, tar xzf alone: ${seconds(runs.map((r) => r.unpack))}.`,
        'With the default interval (60s) the wait for the next poll is up to a minute, on average half: the rest of the figure does not depend on it.',
      ],
    };
  } finally {
    await host.close();
    await files.close();
    await removeTempDir(builds.dir);
  }
}
