import { dirname, join } from 'node:path';
import type { OverlayFile } from '../../schemas/index.js';
import type { Agent } from './agent.js';
import { createComposeCli, detectCompose } from './adapters/compose-cli.js';
import { createDockerCli } from './adapters/docker-cli.js';
import { composeServices } from './apply/compose-target.js';
import type { ApplyEnv, ApplyServices, Logger } from './apply/apply-env.js';
import { createBackupStore } from './apply/backup-store.js';
import { awaitHealthy, dockerExec } from './apply/health.js';
import { progressPrinter } from './apply/archive-download.js';
import type { DownloadProgress } from './apply/archive-download.js';
import { ensureImages } from './apply/images.js';
import { parseCommitObject } from './channel/commit-object.js';
import { openCommitTree } from './channel/commit-tree.js';
import { readRelease } from './channel/read-release.js';
import { DuckError } from '../../schemas/errors.js';

/**
 * The one place the apply side's adapters are wired: compose (v2 or v1, detected once), the
 * docker CLI, the backup store, health probes and image fetching.
 */
export async function createApplyServices(agent: Agent, log: Logger): Promise<ApplyServices> {
  const runtime = createComposeCli(await detectCompose());
  const docker = createDockerCli();
  const { apply, stateDir } = agent.config;
  // A bar on a terminal; otherwise a log line per tenth, never one per chunk.
  const progressOf = (app: string) => (process.stderr.isTTY ? progressPrinter(process.stderr, `${app} image`) : throttledLog(log, app));
  const backups = createBackupStore(apply.backupsDir, { minFreeBytes: apply.minFreeBytes, now: agent.clock });
  return {
    runtime,
    backups,
    ensureImages: async (images, releaseDir, app, signal) => {
      await ensureImages(images ?? [], {
        releaseDir,
        ...(signal ? { signal } : {}),
        downloadsDir: join(stateDir, 'downloads'),
        docker,
        onProgress: progressOf(app),
      });
    },
    awaitHealthy: async (app, project, target, probes, timeoutMs) => {
      // Fault injection for the crash tests: fail the health check of one version on purpose.
      if (process.env.DUCK_FAULT_FAIL_HEALTH && process.env.DUCK_FAULT_FAIL_HEALTH === target.env?.DUCK_VERSION) {
        throw new DuckError('unhealthy', `${app}: health check failed on purpose (DUCK_FAULT_FAIL_HEALTH)`, { app });
      }
      const containerFor = async (service: string): Promise<string> => {
        const found = (await runtime.ps(project)).find((s) => s.service === service);
        if (!found) throw new Error(`service ${service} has no container`);
        return found.containerId;
      };
      const expectedServices = await composeServices(target);
      await awaitHealthy({ runtime, project, app, expectedServices, probes, timeoutMs, exec: dockerExec(containerFor), onProgress: (line) => log('health', { app, line }) });
    },
    volumes: async (project, names) => {
      const found: Array<{ name: string; mountpoint: string }> = [];
      for (const name of names) {
        const volume = await docker.volumeInspect(`${project}_${name}`);
        if (volume) found.push({ name, mountpoint: volume.mountpoint });
      }
      return found;
    },
    removeImages: async (refs) => {
      const removed: string[] = [];
      for (const ref of refs) {
        try {
          await docker.removeImage(ref);
          removed.push(ref);
        } catch (err) {
          log('image-kept', { ref, reason: (err as Error).message });
        }
      }
      return removed;
    },
    removeProjectVolumes: async (project) => {
      const names = await docker.projectVolumes(project);
      for (const name of names) await docker.removeVolume(name);
      return names;
    },
  };
}

export function applyEnvFor(agent: Agent, services: ApplyServices, opts: { overlay: OverlayFile; log: Logger; force?: boolean; signal?: AbortSignal }): ApplyEnv {
  return {
    config: agent.config,
    state: agent.state,
    clock: agent.clock,
    log: opts.log,
    services,
    overlay: opts.overlay,
    overlayDir: dirname(agent.config.overlay),
    faultAt: process.env.DUCK_FAULT_KILL_AT ?? null,
    force: opts.force ?? false,
    signal: opts.signal ?? null,
    readRelease: async (app, version, commit) => {
      const objects = agent.transport.objects;
      const parsed = parseCommitObject(await objects.readCommitRaw(commit), commit);
      const tree = openCommitTree(objects, commit, parsed.tree, agent.config.limits.maxFileBytes);
      const content = await readRelease(tree, app, version, { file: `commit ${commit.slice(0, 12)}`, field: `/apps/${app}` });
      return { content, tree };
    },
  };
}

function throttledLog(log: Logger, app: string): (p: DownloadProgress) => void {
  let lastDecile = -1;
  return (p) => {
    const decile = p.total === 0 ? 10 : Math.floor((p.bytes * 10) / p.total);
    if (decile === lastDecile) return;
    lastDecile = decile;
    log('download', { app, url: p.url, bytes: p.bytes, total: p.total });
  };
}
