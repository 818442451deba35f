// The release.yaml `duck release add` writes, as a pure function of what it read: the publisher's
// base settings, the images found in the archives, the sha256 of every file, the notes.
import { stringify } from 'yaml';
import type { ImageSpec, ReleaseFile } from '../../../schemas/index.js';
import { validateValue } from '../../../schemas/index.js';
import type { BaseRelease } from './build-dir.js';

export const RELEASE_SCHEMA_URL = 'https://duck.dev/schemas/release.schema.json';

export interface ReleaseInputs {
  readonly app: string;
  readonly version: string;
  readonly base: BaseRelease;
  /** Images read from the archives; they replace a base image with the same ref. */
  readonly archived: readonly ImageSpec[];
  /** Release-relative path -> sha256 hex, every file but release.yaml. */
  readonly files: Readonly<Record<string, string>>;
  readonly notes?: string | undefined;
}

/** The release, checked against the schema (a bad base setting is reported by its field). */
export function composeRelease(input: ReleaseInputs, file: string): ReleaseFile {
  const baseImages = Array.isArray(input.base.images) ? (input.base.images as ImageSpec[]) : [];
  const archivedRefs = new Set(input.archived.map((i) => i.ref));
  const images = [...baseImages.filter((i) => !archivedRefs.has(i?.ref)), ...input.archived];
  const notes = input.notes ?? input.base.notes;
  const value: Record<string, unknown> = { app: input.app, version: input.version };
  if (notes !== undefined) value.notes = notes;
  if (images.length > 0) value.images = images;
  for (const key of ['health', 'backup', 'migrations', 'retries'] as const) {
    if (input.base[key] !== undefined) value[key] = input.base[key];
  }
  value.files = Object.fromEntries(Object.entries(input.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return validateValue('release', value, file);
}

export function renderRelease(release: ReleaseFile): string {
  const header = [
    `# yaml-language-server: $schema=${RELEASE_SCHEMA_URL}`,
    `# ${release.app} ${release.version}, written by \`duck release add\`. Published releases never change:`,
    '# fix a mistake with a new version.',
  ].join('\n');
  // lineWidth 0: notes stay on one line; yaml quotes what would read as a number or date.
  return `${header}\n${stringify(release, { lineWidth: 0 })}`;
}
