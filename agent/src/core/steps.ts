import type { ImageSpec, Probe } from '../../../schemas/index.js';

/**
 * Steps are plain, serialisable data (they go into the journal before they run); `kind` narrows.
 * A new kind without an executor is a type error in apply/.
 */
export interface StepArgs {
  writeRelease: { app: string; version: string; commit: string };
  fetchImages: { app: string; version: string; images: ImageSpec[] };
  stop: { app: string; version: string };
  backup: { app: string; version: string; paths: string[]; volumes: string[] };
  /** DESIGN §4.4: leaving an irreversible version restores the backup taken when it was installed. */
  restoreData: { app: string; backupId: string; leaving: string };
  switchRelease: { app: string; from: string | null; to: string };
  up: { app: string; version: string };
  awaitHealth: { app: string; version: string; probes: Probe[]; timeoutMs: number };
}

export type StepKind = keyof StepArgs;
export type Step<K extends StepKind = StepKind> = { [P in K]: { kind: P; reason: string } & StepArgs[P] }[K];

/** The order of an app's steps: download while the old version serves, stop only to switch. */
export const APPLY_ORDER: readonly StepKind[] = [
  'writeRelease',
  'fetchImages',
  'stop',
  'backup',
  'restoreData',
  'switchRelease',
  'up',
  'awaitHealth',
];

/** A reason the plan does not move an app now: a value, never a no-op step. */
export interface Wait {
  readonly app: string;
  readonly reason: string;
  readonly until: string | null;
}

export interface Plan {
  readonly steps: readonly Step[];
  readonly waits: readonly Wait[];
}
