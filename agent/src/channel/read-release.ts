import { createHash } from 'node:crypto';
import { parse as parseYamlLoose } from 'yaml';
import type { ChannelFile, GroupFile, ReleaseFile } from '../../../schemas/index.js';
import { parseYaml } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import type { CommitTree } from './commit-tree.js';
import { assertSafePath } from './commit-tree.js';
import { assertValidWindows } from '../core/window-spec.js';
import { CHANNEL_FILE } from './trust-policy.js';

export interface ReleaseFileRef {
  readonly path: string;
  readonly oid: string;
  readonly sha256: string;
  readonly size: number;
}

export interface ReleaseContent {
  readonly app: string;
  readonly version: string;
  /** The release directory inside the channel: releases/<app>/<version>. */
  readonly dir: string;
  readonly release: ReleaseFile;
  /** Every file of the release but release.yaml, each checked against its listed sha256. */
  readonly files: readonly ReleaseFileRef[];
}

export interface ChannelContent {
  readonly commit: string;
  readonly channel: ChannelFile;
  readonly groupName: string;
  readonly groupFile: string;
  readonly group: GroupFile;
  readonly releases: Readonly<Record<string, ReleaseContent>>;
}

const RELEASE_FILE = 'release.yaml';

/** Everything this node acts on, read from the accepted commit's tree and checked. */
export async function readChannelContent(tree: CommitTree, groupName: string): Promise<ChannelContent> {
  const channel = await tree.readYaml('channel', CHANNEL_FILE);
  const groupFile = `groups/${groupName}.yaml`;
  if ((await tree.blobId(groupFile)) === null) {
    throw new DuckError('invalid', `${groupFile}: this node's group "${groupName}" has no file in commit ${tree.commit.slice(0, 12)}`, {
      file: groupFile,
      commit: tree.commit,
    });
  }
  const group = await tree.readYaml('group', groupFile);
  // An unknown time zone is a config error, never a silent UTC (DESIGN §4.1).
  assertValidWindows(group.windows ?? [], { file: groupFile, field: '/windows' });
  const releases: Record<string, ReleaseContent> = {};
  for (const app of Object.keys(group.apps).sort()) {
    releases[app] = await readRelease(tree, app, group.apps[app]!, { file: groupFile, field: `/apps/${app}` });
  }
  return { commit: tree.commit, channel, groupName, groupFile, group, releases };
}

export async function readRelease(
  tree: CommitTree,
  app: string,
  version: string,
  pinnedBy: { file: string; field: string },
): Promise<ReleaseContent> {
  const dir = `releases/${app}/${version}`;
  assertSafePath(dir, pinnedBy.file, pinnedBy.field);
  const releasePath = `${dir}/${RELEASE_FILE}`;
  if ((await tree.blobId(releasePath)) === null) {
    throw new DuckError('invalid', `${pinnedBy.file}: ${pinnedBy.field}: version ${version} has no ${releasePath}`, pinnedBy);
  }
  // Git names a tree by its content: a release directory verified under the same id and rules is
  // the same release, and is not read or hashed again (a poll after a change to another app).
  const treeId = tree.verified ? await tree.treeId?.(dir) : null;
  const key = treeId ? `${treeId} ${app} ${version} ${tree.limits.maxFileBytes} ${tree.limits.maxReleaseFiles}` : null;
  const known = key ? tree.verified?.get(key) : undefined;
  if (known) return known;
  const content = await readReleaseDir(tree, app, version, dir);
  if (key) tree.verified?.set(key, content);
  return content;
}

async function readReleaseDir(tree: CommitTree, app: string, version: string, dir: string): Promise<ReleaseContent> {
  const releasePath = `${dir}/${RELEASE_FILE}`;
  const release = parseRelease(new TextDecoder().decode(await tree.readFile(releasePath)), releasePath);
  if (release.app !== app || release.version !== version) {
    throw new DuckError('invalid', `${releasePath}: names ${release.app} ${release.version} but lives in ${dir}`, {
      file: releasePath,
      field: release.app !== app ? '/app' : '/version',
    });
  }

  const { maxReleaseFiles } = tree.limits;
  const listed = Object.keys(release.files).length;
  assertFileCount(listed, `lists ${listed} files`, releasePath, maxReleaseFiles);
  // release.yaml is one more entry of the directory: the walk stops past the cap and release.yaml.
  const present = new Map((await tree.listFiles(dir, maxReleaseFiles + 1)).map((f) => [f.path, f.oid]));
  present.delete(RELEASE_FILE);
  assertFileCount(present.size, `${dir} holds more than ${maxReleaseFiles} files`, releasePath, maxReleaseFiles);
  const files: ReleaseFileRef[] = [];
  for (const path of Object.keys(release.files).sort()) {
    const field = `/files/${path.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    const oid = present.get(path);
    if (oid === undefined) throw new DuckError('invalid', `${releasePath}: ${field}: lists ${path}, which the release does not contain`, { file: releasePath, field });
    const bytes = await tree.readFile(`${dir}/${path}`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== release.files[path]) {
      throw new DuckError('digest-mismatch', `${dir}/${path}: sha256 ${sha256} does not match ${release.files[path]} listed in ${releasePath}`, {
        file: `${dir}/${path}`,
        field,
        expected: release.files[path],
        actual: sha256,
      });
    }
    files.push({ path, oid, sha256, size: bytes.length });
    present.delete(path);
  }
  const unlisted = [...present.keys()];
  if (unlisted.length > 0) {
    throw new DuckError('digest-mismatch', `${dir}/${unlisted[0]}: not listed with a sha256 in ${releasePath} /files`, {
      file: `${dir}/${unlisted[0]}`,
      field: '/files',
    });
  }
  return { app, version, dir, release, files };
}

/** Checked before any file of the release is read: a release of a million files costs a node nothing. */
function assertFileCount(count: number, what: string, releasePath: string, max: number): void {
  if (count <= max) return;
  throw new DuckError('too-large', `${releasePath}: /files: ${what}: over the ${max}-file limit of this node (agent config /limits/maxReleaseFiles)`, {
    file: releasePath,
    field: '/files',
    limit: max,
  });
}

/**
 * Path escapes are `unsafe-path`, not a schema error: when the schema refuses the file, its paths
 * are looked at first; when it accepts it, on the parsed value. The text is parsed once either way.
 */
function parseRelease(text: string, file: string): ReleaseFile {
  let release: ReleaseFile;
  try {
    release = parseYaml('release', text, file);
  } catch (err) {
    assertListedPathsSafe(parseLoose(text), file);
    throw err;
  }
  assertListedPathsSafe(release, file);
  return release;
}

function parseLoose(text: string): unknown {
  try {
    return parseYamlLoose(text);
  } catch {
    return null; // the schema parse reports the syntax error with its line and column
  }
}

function assertListedPathsSafe(raw: unknown, file: string): void {
  const files = (raw as { files?: unknown } | null)?.files;
  if (files && typeof files === 'object') {
    for (const path of Object.keys(files)) assertSafePath(path, file, '/files');
  }
  const images = (raw as { images?: unknown } | null)?.images;
  if (Array.isArray(images)) {
    for (const [i, image] of images.entries()) {
      const url = (image as { archive?: { url?: unknown } } | null)?.archive?.url;
      if (typeof url === 'string' && !/^https?:\/\//.test(url)) assertSafePath(url, file, `/images/${i}/archive/url`);
    }
  }
}
