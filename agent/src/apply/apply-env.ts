import type { OverlayFile, Probe } from '../../../schemas/index.js';
import type { CommitTree } from '../channel/commit-tree.js';
import type { ReleaseContent } from '../channel/read-release.js';
import type { Clock, ComposeRuntime, ComposeTarget, Faults, Logger, StateStore } from '../ports.js';
import type { BackupStore } from './backup-store.js';

/** Where apps and backups live and what is kept: the agent config's `apply` section. */
export interface ApplySettings {
  readonly appsDir: string;
  readonly backupsDir: string;
  readonly keepBackups: number;
  readonly keepReleases: number;
  readonly maxLockDeferMs: number;
  readonly minFreeBytes: number;
  /** How long a Docker outage is waited out once a change has stopped something (issue 12 §6). */
  readonly engineWaitMs: number;
}

/** The side effects applying needs, behind small functions so the engine reads as a sequence. */
export interface ApplyServices {
  readonly runtime: ComposeRuntime;
  readonly backups: BackupStore;
  /** Pull or load the images (download-then-stop: the old version still serves meanwhile). */
  ensureImages(images: ReleaseContent['release']['images'], releaseDir: string, app: string, signal: AbortSignal | null): Promise<void>;
  awaitHealthy(app: string, project: string, target: ComposeTarget, probes: Probe[], timeoutMs: number): Promise<void>;
  /** Host mountpoints of the project's named volumes that exist. */
  volumes(project: string, names: readonly string[]): Promise<Array<{ name: string; mountpoint: string }>>;
  /** Removes images no kept release uses; one still in use by a container stays. Returns those removed. */
  removeImages(refs: readonly string[]): Promise<string[]>;
  /** A planned purge only: removes the project's named volumes; returns their names. */
  removeProjectVolumes(project: string): Promise<string[]>;
  /** Pins `app` to `version` in the operator's overlay (comments kept): a restore's last step. */
  pinVersion(app: string, version: string): Promise<void>;
}

export interface ApplyEnv {
  readonly settings: ApplySettings;
  readonly state: StateStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly services: ApplyServices;
  readonly overlay: OverlayFile;
  readonly overlayDir: string;
  /** A release from the local clone of the channel, by object id (the journal names the commit). */
  readRelease(app: string, version: string, commit: string): Promise<{ content: ReleaseContent; tree: CommitTree }>;
  /** Where a test asked the process to kill itself (before or after a step). */
  readonly faults: Faults;
  /** Ends the process at once, as SIGKILL does; never resolves. */
  kill(): Promise<never>;
  /** `duck upgrade --force`: go ahead although the app holds its update lock. */
  readonly force: boolean;
  /** Aborted when the agent is asked to stop (SIGTERM): no new change starts, none is left halfway. */
  readonly signal: AbortSignal | null;
}
