// What a change is applied with (images, health, volumes, pins), built when a change first needs
// it: loaded by wiring.ts on demand, so a reading command never loads the apply code and its
// libraries (p-retry, the image download).
import { join } from 'node:path';
import { DuckError } from '../../../schemas/errors.js';
import { editOverlay } from '../adapters/overlay-file.js';
import type { ApplyServices } from '../apply/apply-env.js';
import { progressPrinter } from '../apply/archive-download.js';
import { composeServices } from '../apply/compose-target.js';
import { awaitHealthy, dockerExec } from '../apply/health.js';
import { ensureImages } from '../apply/images.js';
import { setPin } from '../core/overlay-edits.js';
import type { ComposeRuntime, Logger } from '../ports.js';
import { sparseProgressLog } from './progress-log.js';
import type { NodeParts } from './wiring.js';

export function applyServices(parts: NodeParts, runtime: ComposeRuntime, log: Logger): ApplyServices {
  const { docker, faults } = parts;
  // A bar on a terminal; otherwise a few log lines (start, end, now and then), never one per chunk.
  const progressOf = (app: string) => (process.stderr.isTTY ? progressPrinter(process.stderr, `${app} image`) : sparseProgressLog(log, app));
  return {
    runtime,
    backups: parts.backups,
    ensureImages: async (images, releaseDir, app, signal) => {
      await ensureImages(images ?? [], {
        releaseDir,
        ...(signal ? { signal } : {}),
        downloadsDir: join(parts.config.stateDir, 'downloads'),
        docker,
        onProgress: progressOf(app),
      });
    },
    awaitHealthy: async (app, project, target, probes, timeoutMs) => {
      if (faults.failHealthOf !== null && faults.failHealthOf === target.env?.DUCK_VERSION) {
        throw new DuckError('unhealthy', `${app}: health check failed on purpose (DUCK_FAULT_FAIL_HEALTH)`, { app });
      }
      const containerFor = async (service: string): Promise<string> => {
        const found = (await runtime.ps(project)).find((s) => s.service === service);
        if (!found) throw new Error(`service ${service} has no container`);
        return found.containerId;
      };
      const expectedServices = await composeServices(target);
      await awaitHealthy({
        runtime,
        project,
        app,
        expectedServices,
        probes,
        timeoutMs,
        exec: dockerExec(containerFor),
        onProgress: (line) => log('health', { app, line }),
        engineWaitMs: parts.config.apply.engineWaitMs,
      });
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
    pinVersion: async (app, version) => {
      await editOverlay(parts.config.overlay, (doc) => void setPin(doc, app, version));
    },
  };
}
