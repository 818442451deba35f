// The agent's self-update (DESIGN §4.7, issue 15): download → stage → self-test → switch →
// restart → health-wait, and revert when the new build does not prove healthy in time. Each step is
// written to the journal before its side effect, so an updater killed anywhere is finished by the
// next one (`resumeAction`). It runs outside the agent's service (duck-update.service, or a
// detached process) and touches the state only while no daemon writes it.
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckError, toDuckError } from '../../../schemas/errors.js';
import type { AgentRelease } from '../core/agent-build.js';
import type { UpdateJournal, UpdateOutcome, UpdateStep } from '../core/agent-update.js';
import { advance, ended, foldUpdateOutcome, resumeAction } from '../core/agent-update.js';
import { acquireInstanceLock, isAlive } from '../adapters/instance-lock.js';
import { openStateStore } from '../adapters/state-lowdb.js';
import type { DownloadProgress } from '../apply/archive-download.js';
import type { Logger, ServiceManager } from '../ports.js';
import { currentVersion, pruneBuilds, switchCurrent } from './builds.js';
import { waitForHealth } from './health-wait.js';
import { journalFile, readJournal, selfUpdateDir, writeJournal } from './journal-file.js';
import { downloadBuild, downloadsDir, stageBuild } from './stage.js';
import { dropSnapshot, restoreSnapshot, takeSnapshot } from './state-snapshot.js';

/** A resolved target: the release read from the accepted commit, and this machine's platform key. */
export interface UpdateTarget {
  readonly release: AgentRelease;
  readonly platform: string;
}

export interface UpdaterDeps {
  readonly stateDir: string;
  readonly buildsDir: string;
  readonly configFile: string;
  readonly healthTimeoutMs: number;
  readonly service: ServiceManager;
  readonly now: () => Date;
  readonly log: Logger;
  /** The version running now (the build `current` points at, or this process's own). */
  readonly running: string;
  /** `self-update:<step>`: the updater kills itself (SIGKILL) once that step is journalled (tests only). */
  readonly killAt?: string | null;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** How long a build's self-test may take; default 2 min. */
  readonly selfTestTimeoutMs?: number;
  /** Between reads of the heartbeat; default 500 ms. */
  readonly healthPollMs?: number;
}

export interface UpdateResult {
  readonly outcome: UpdateOutcome | 'none';
  readonly from: string;
  readonly to: string;
  /** The step it failed at, when it failed. */
  readonly step: UpdateStep | null;
  readonly reason: string;
}

const HOLDER = 'duck self-update';

/** Runs the update to `target`, or finishes one a killed updater left first (then returns that one). */
export async function runUpdate(target: UpdateTarget, deps: UpdaterDeps): Promise<UpdateResult> {
  return asTheUpdater(deps, () => update(target, deps));
}

/** Finishes what a killed updater left (null when nothing was left). Throws `locked` when another updater runs. */
export async function resumeUpdate(deps: UpdaterDeps): Promise<UpdateResult | null> {
  return asTheUpdater(deps, () => resume(deps));
}

/** One updater per state directory: its own pid file (`self-update/agent.pid`), apart from the daemon's. */
async function asTheUpdater<T>(deps: UpdaterDeps, body: () => Promise<T>): Promise<T> {
  await mkdir(selfUpdateDir(deps.stateDir), { recursive: true, mode: 0o700 });
  const lock = await acquireInstanceLock(selfUpdateDir(deps.stateDir), HOLDER);
  try {
    return await body();
  } finally {
    await lock.release();
  }
}

async function update(target: UpdateTarget, deps: UpdaterDeps): Promise<UpdateResult> {
  const left = await resume(deps);
  if (left !== null) return left;
  const { release, platform } = target;
  const from = await currentVersion(deps.buildsDir);
  // A revert needs a build to go back to: an agent run from a checkout has none.
  if (from === null) {
    throw new DuckError('config', `${join(deps.buildsDir, 'current')}: no such link: this agent does not run from a build in selfUpdate.buildsDir (a checkout?), so it cannot update itself`, { field: '/selfUpdate/buildsDir' });
  }
  if (release.version === from) return { outcome: 'none', from, to: release.version, step: null, reason: `${from} already runs` };
  const artifact = release.artifacts[platform];
  const journal: UpdateJournal = {
    format: 1,
    id: randomUUID(),
    from,
    to: release.version,
    platform,
    artifact: artifact ?? { url: '', sha256: '', size: 0 },
    releaseDigest: release.digest,
    step: 'download',
    outcome: 'running',
    reason: `update ${from} -> ${release.version}`,
    startedAt: deps.now().toISOString(),
    switchedAt: null,
    deadline: null,
    updaterPid: process.pid,
    attempts: 1,
    endedAt: null,
    failedStep: null,
  };
  if (artifact === undefined) {
    return finish(ended(journal, 'failed', `agent release ${release.version} has no artifact for ${platform}`, deps.now()), deps);
  }
  await step(journal, deps);
  return forward(journal, deps);
}

async function resume(deps: UpdaterDeps): Promise<UpdateResult | null> {
  const found = await readJournal(deps.stateDir);
  const action = resumeAction(found, { updaterAlive: found !== null && found.updaterPid !== process.pid && isAlive(found.updaterPid), current: await currentVersion(deps.buildsDir), now: deps.now() });
  if (found === null || action.kind === 'none') return null;
  if (action.kind === 'busy') throw new DuckError('locked', action.reason, { file: journalFile(deps.stateDir), pid: found.updaterPid });
  deps.log('self-update-resume', { action: action.kind, reason: action.reason, step: found.step, to: found.to });
  const journal: UpdateJournal = { ...found, updaterPid: process.pid, attempts: found.attempts + 1 };
  switch (action.kind) {
    case 'restart':
      return forward(await step(advance(journal, 'download'), deps), deps);
    case 'switch':
    case 'await-health':
      return forward(await step(journal, deps), deps);
    case 'revert':
      return revert(journal, action.reason, deps);
    case 'give-up':
      return finish(ended(journal, 'failed', action.reason, deps.now()), deps);
  }
}

async function forward(start: UpdateJournal, deps: UpdaterDeps): Promise<UpdateResult> {
  let j = start;
  const stage = { buildsDir: deps.buildsDir, version: j.to, artifact: j.artifact, ...(deps.onProgress ? { onProgress: deps.onProgress } : {}) };
  if (j.step === 'download' || j.step === 'stage' || j.step === 'self-test') {
    let tarball: string;
    try {
      tarball = await downloadBuild(stage);
    } catch (err) {
      return finish(ended(j, 'failed', toDuckError(err).message, deps.now()), deps);
    }
    j = await step(advance(j, 'stage'), deps);
    let dir: string;
    try {
      dir = await stageBuild(tarball, stage);
    } catch (err) {
      return finish(ended(j, 'failed', toDuckError(err).message, deps.now()), deps);
    }
    j = await step(advance(j, 'self-test'), deps);
    const refused = await selfTest(dir, deps);
    if (refused !== null) return finish(ended(j, 'failed', `self-test of ${j.to}: ${refused}`, deps.now()), deps);
    j = await step(advance(j, 'switch'), deps);
  }
  if (j.step === 'switch') {
    await deps.service.stopAgent();
    await withStateLock(deps, async () => {
      // The new build has not run yet: the state is the old build's (taken again on a resume).
      if ((await currentVersion(deps.buildsDir)) !== j.to) await takeSnapshot(deps.stateDir);
      await switchCurrent(deps.buildsDir, j.to);
    });
    const switchedAt = deps.now();
    j = await step(advance(j, 'restart', { switchedAt: switchedAt.toISOString(), deadline: new Date(switchedAt.getTime() + deps.healthTimeoutMs).toISOString() }), deps);
  }
  if (j.step === 'restart') {
    await deps.service.startAgent();
    j = await step(advance(j, 'health-wait'), deps);
  } else if (j.step === 'health-wait') {
    // A resumed wait: the daemon may have died with the updater's session; starting a running one is harmless.
    await deps.service.startAgent();
  }
  const healthy = await waitForHealth({ stateDir: deps.stateDir, version: j.to, switchedAt: j.switchedAt!, deadline: j.deadline!, now: deps.now, pollMs: deps.healthPollMs ?? 500 });
  if (!healthy) return revert(j, `no healthy cycle of ${j.to} within ${Math.round(deps.healthTimeoutMs / 1000)} s of the switch`, deps);
  await dropSnapshot(deps.stateDir);
  const removed = await pruneBuilds(deps.buildsDir, [j.to, j.from]);
  if (removed.length > 0) deps.log('self-update-pruned', { removed });
  return finish(ended(j, 'applied', `${j.to} proved healthy`, deps.now()), deps);
}

/** Back to `from`: stop, link back, the state as it was before the switch, the failure recorded, start. */
async function revert(start: UpdateJournal, reason: string, deps: UpdaterDeps): Promise<UpdateResult> {
  let j = start.step === 'revert' ? start : await step(advance(start, 'revert', { reason, failedStep: start.step }), deps);
  await deps.service.stopAgent();
  j = ended(j, 'rolled-back', j.reason, deps.now());
  await withStateLock(deps, async () => {
    await switchCurrent(deps.buildsDir, j.from);
    await restoreSnapshot(deps.stateDir);
    await foldInto(deps.stateDir, j);
  });
  await writeJournal(deps.stateDir, j);
  await dropSnapshot(deps.stateDir);
  await dropDownload(j, deps);
  await deps.service.startAgent();
  deps.log('self-update-done', { outcome: j.outcome, from: j.from, to: j.to, reason: j.reason });
  return resultOf(j);
}

/** Ends an update that did not switch, or one that proved healthy: the journal, then the state. */
async function finish(j: UpdateJournal, deps: UpdaterDeps): Promise<UpdateResult> {
  await writeJournal(deps.stateDir, j);
  await dropDownload(j, deps);
  // The daemon, when it runs, is the state's writer and folds the journal in at its next cycle.
  try {
    await withStateLock(deps, () => foldInto(deps.stateDir, j));
  } catch (err) {
    if (toDuckError(err).code !== 'locked') throw err;
  }
  deps.log('self-update-done', { outcome: j.outcome, from: j.from, to: j.to, reason: j.reason });
  return resultOf(j);
}

/** The whole tarball once the update ended (a `.part` stays: a later try resumes from it). */
async function dropDownload(j: UpdateJournal, deps: UpdaterDeps): Promise<void> {
  if (/^[a-f0-9]{64}$/.test(j.artifact.sha256)) await rm(join(downloadsDir(deps.buildsDir), `${j.artifact.sha256}.tar`), { force: true });
}

function resultOf(j: UpdateJournal): UpdateResult {
  return { outcome: j.outcome, from: j.from, to: j.to, step: j.failedStep ?? null, reason: j.reason };
}

async function foldInto(stateDir: string, j: UpdateJournal): Promise<void> {
  const store = await openStateStore(stateDir);
  await store.update((draft) => {
    foldUpdateOutcome(draft.agentBuild, j);
  });
}

/** The state's writer lock for the updater's own writes: the single-writer rule holds for it too. */
async function withStateLock(deps: UpdaterDeps, body: () => Promise<void>): Promise<void> {
  const lock = await acquireInstanceLock(deps.stateDir, HOLDER);
  try {
    await body();
  } finally {
    await lock.release();
  }
}

/** Journals the step before its side effect; the test fault kills right after. */
async function step(j: UpdateJournal, deps: UpdaterDeps): Promise<UpdateJournal> {
  await writeJournal(deps.stateDir, j);
  deps.log('self-update-step', { step: j.step, to: j.to });
  if (deps.killAt === `self-update:${j.step}`) process.kill(process.pid, 'SIGKILL');
  return j;
}

/** The new build's `duck self-test`: null when it passed, else why not. */
function selfTest(dir: string, deps: UpdaterDeps): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(`${dir}/duck`, ['self-test', '--config', deps.configFile], { timeout: deps.selfTestTimeoutMs ?? 120_000 }, (err, stdout, stderr) => {
      if (!err) return resolve(null);
      const said = `${stderr}\n${stdout}`.trim().split('\n').filter(Boolean).pop();
      const code = (err as { code?: unknown }).code;
      resolve(`${typeof code === 'number' ? `exit ${code}` : err.message}${said ? `: ${said}` : ''}`);
    });
  });
}

