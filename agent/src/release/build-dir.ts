// A build output directory as `duck release add` takes it: the compose file, the files it mounts,
// optional `docker save` archives under images/, and an optional release.yaml holding what only
// the publisher knows (health probes, backup paths, migrations), used as the base.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readYamlSource } from '../../../schemas/yaml-source.js';
import { COMPOSE_FILE_NAMES } from '../apply/app-layout.js';
import { assertSafePath } from '../channel/commit-tree.js';
import { DuckError } from '../../../schemas/errors.js';
import { walkTree } from './work-tree.js';

/** The keys of release.yaml a build directory's own release.yaml may set; `add` fills the rest. */
export const BASE_KEYS = ['notes', 'images', 'health', 'backup', 'migrations', 'retries'] as const;
export type BaseRelease = Partial<Record<(typeof BASE_KEYS)[number], unknown>>;

export interface BuildDir {
  readonly dir: string;
  /** The compose file's name at the top of the build directory. */
  readonly composeFile: string;
  /** Files that become the release's files (paths relative to the build directory). */
  readonly files: readonly string[];
  /** `docker save` archives: images/*.tar. */
  readonly archives: readonly string[];
  readonly base: BaseRelease;
}

const RELEASE_FILE = 'release.yaml';
const ARCHIVE = /^images\/[^/]+\.tar$/;

export async function readBuildDir(dir: string): Promise<BuildDir> {
  const { files, links } = await walkTree(dir).catch((err: NodeJS.ErrnoException) => {
    throw new DuckError('config', `${dir}: cannot read the build directory (${err.code ?? err.message})`, { file: dir });
  });
  if (links[0] !== undefined) {
    throw new DuckError('unsafe-path', `${join(dir, links[0])}: a symbolic link: a release holds files, and agents refuse links (copy the file instead)`, {
      file: join(dir, links[0]),
    });
  }
  for (const file of files) assertSafePath(file, join(dir, file));
  const composeFile = COMPOSE_FILE_NAMES.find((name) => files.includes(name));
  if (composeFile === undefined) {
    throw new DuckError('config', `${dir}: no compose file (${COMPOSE_FILE_NAMES.join(', ')}) at the top of the build directory`, { file: dir });
  }
  const base = files.includes(RELEASE_FILE) ? await readBase(join(dir, RELEASE_FILE)) : {};
  return {
    dir,
    composeFile,
    files: files.filter((f) => f !== RELEASE_FILE && !ARCHIVE.test(f)),
    archives: files.filter((f) => ARCHIVE.test(f)),
    base,
  };
}

/** The build's release.yaml: only the keys the publisher owns; app, version and files are written by add. */
async function readBase(file: string): Promise<BaseRelease> {
  const source = readYamlSource(await readFile(file, 'utf8'));
  if (!source.ok) {
    const p = source.problems[0]!;
    throw new DuckError('invalid', `${file}:${p.line}:${p.column}: ${p.message}`, { file, line: p.line, column: p.column, field: p.field });
  }
  const value = source.value ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new DuckError('invalid', `${file}:1:1: must be a map`, { file, line: 1, column: 1 });
  const base: BaseRelease = {};
  for (const [key, v] of Object.entries(value)) {
    if ((BASE_KEYS as readonly string[]).includes(key)) base[key as keyof BaseRelease] = v;
    else if (!['app', 'version', 'files'].includes(key)) {
      const at = source.locator.key([], key) ?? { line: 1, column: 1 };
      throw new DuckError('invalid', `${file}:${at.line}:${at.column}: unknown key "${key}" (a build's release.yaml may set ${BASE_KEYS.join(', ')})`, {
        file,
        ...at,
        field: `/${key}`,
      });
    }
  }
  return base;
}
