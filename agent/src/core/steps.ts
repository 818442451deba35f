import type { ImageSpec, Probe, WaitKind } from '../../../schemas/index.js';

/**
 * Steps are plain, serialisable data (they go into the journal before they run); `kind` narrows.
 * A new kind without an executor is a type error in apply/.
 */
export interface StepArgs {
  /** A restore: the backup's copy of the release directory goes back in place (when missing). */
  restoreRelease: { app: string; version: string; backupId: string };
  writeRelease: { app: string; version: string; commit: string };
  fetchImages: { app: string; version: string; images: ImageSpec[] };
  /**
   * Issue 13: the backup's data copied while `version` still serves, so the backup after the stop
   * copies only what changed since. Touches nothing of the app: a kill here loses nothing.
   */
  preCopy: { app: string; version: string; paths: string[]; volumes: string[] };
  /**
   * Issue 13: the new `version`'s containers made, not started (`compose up --no-start`), which
   * stops and replaces those of `from`: the compose process starts while `from` still serves, so
   * the stopped window holds only the engine's start of what it made (the `up` step).
   */
  create: { app: string; version: string; from: string };
  stop: { app: string; version: string };
  backup: { app: string; version: string; paths: string[]; volumes: string[] };
  /** DESIGN §4.4: leaving an irreversible version restores the backup taken when it was installed. */
  restoreData: { app: string; backupId: string; leaving: string };
  switchRelease: { app: string; from: string | null; to: string };
  /** A purge: the project's containers and networks go (volumes and data stay until the next steps). */
  down: { app: string; version: string };
  /** A purge only: the project's named volumes. Data is never removed implicitly. */
  removeVolumes: { app: string };
  /** A purge only: the app's releases, data and lock directories. Backups are kept. */
  removeAppFiles: { app: string };
  up: { app: string; version: string };
  awaitHealth: { app: string; version: string; probes: Probe[]; timeoutMs: number };
  /** A restore: the operator's overlay pins the restored version, so the channel does not move it again. */
  pinVersion: { app: string; version: string };
}

export type StepKind = keyof StepArgs;
export type Step<K extends StepKind = StepKind> = { [P in K]: { kind: P; reason: string } & StepArgs[P] }[K];

/**
 * The order steps run in, whatever the change: download while the old version serves, stop only
 * to switch, start last. Every change's steps are a subsequence of it.
 */
export const APPLY_ORDER: readonly StepKind[] = [
  'restoreRelease',
  'writeRelease',
  'fetchImages',
  'preCopy',
  'create',
  'stop',
  'backup',
  'restoreData',
  'switchRelease',
  'down',
  'removeVolumes',
  'removeAppFiles',
  'up',
  'awaitHealth',
  'pinVersion',
];

/** The steps of a version change, in order (an install has no preCopy, create, backup or restoreData). */
export const UPGRADE_STEPS: readonly StepKind[] = ['writeRelease', 'fetchImages', 'preCopy', 'create', 'backup', 'restoreData', 'switchRelease', 'up', 'awaitHealth'];

/** The first step of a change that stops what runs: before it a failure or a kill leaves the old version serving. */
export const STOPPING_STEPS: readonly StepKind[] = ['create', 'stop'];

/** A reason the plan does not move an app now: a value, never a no-op step. */
export interface Wait {
  readonly app: string;
  readonly reason: string;
  readonly until: string | null;
  /** What the change waits for (a window, a hold, a back-off...). */
  readonly kind?: WaitKind | null;
}

export function byApplyOrder(a: Step, b: Step): number {
  return APPLY_ORDER.indexOf(a.kind) - APPLY_ORDER.indexOf(b.kind);
}
