// `duck release agent add`: the agent's own build tarballs become agents/<version>/agent.yaml
// (DESIGN §4.7). The tarballs are uploaded by the publisher to any HTTP(S) server; the file binds
// each one's sha256 and size, read here from the file itself, to the signed history. Published is
// immutable, as for app releases.
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { stringify } from 'yaml';
import type { AgentArtifactSpec, AgentReleaseFile } from '../../../schemas/index.js';
import { validateValue } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import { hashFile } from '../apply/tree-copy.js';
import { agentReleasePath } from '../channel/read-agent-release.js';
import { invalidName } from '../core/overlay-edits.js';
import { assertUnpublished } from './add-release.js';

export const AGENT_RELEASE_SCHEMA_URL = 'https://duck.dev/schemas/agent-release.schema.json';

/** `npm run build:artifact` names its tarballs so: duck-<version>-linux-<arch>.tar.gz. */
const ARTIFACT_NAME = /^duck-([0-9A-Za-z][0-9A-Za-z.+_-]*)-(linux-(?:x64|arm64))\.tar\.gz$/;

export interface AgentAddOptions {
  readonly channel: string;
  readonly version: string;
  /** Paths of the tarballs, one per platform. */
  readonly artifacts: readonly string[];
  /** Each tarball is served at <urlBase>/<its file name>. */
  readonly urlBase: string;
  readonly notes?: string | undefined;
}

export interface AgentAddResult {
  /** agents/<version>/agent.yaml */
  readonly file: string;
  readonly release: AgentReleaseFile;
}

/** The platform a tarball is for, from its name; its version must be the one published. */
export function artifactPlatform(fileName: string, version: string): string {
  if (fileName.startsWith('duck-controller-')) {
    throw new DuckError('usage', `${fileName}: the controller's build, not the agent's: agents/ publishes duck-<version>-linux-<arch>.tar.gz only`);
  }
  const match = ARTIFACT_NAME.exec(fileName);
  if (!match) {
    throw new DuckError('usage', `${fileName}: not an agent build tarball: expected duck-<version>-linux-<x64|arm64>.tar.gz (npm run build:artifact)`);
  }
  if (match[1] !== version) throw new DuckError('usage', `${fileName}: is the build of version ${match[1]}, not --version ${version}`);
  return match[2]!;
}

export async function addAgentRelease(opts: AgentAddOptions): Promise<AgentAddResult> {
  const bad = invalidName('version', opts.version);
  if (bad) throw new DuckError('usage', bad);
  if (!/^https?:\/\/[^\s/?#]+\S*$/.test(opts.urlBase)) throw new DuckError('usage', `--url-base ${opts.urlBase}: must be an http(s) URL`);
  if (opts.artifacts.length === 0) throw new DuckError('usage', 'give at least one tarball: duck-<version>-linux-<arch>.tar.gz');
  const file = agentReleasePath(opts.version);
  const dir = join(opts.channel, 'agents', opts.version);
  await assertUnpublished(opts.channel, `agents/${opts.version}`, dir);

  const artifacts: Record<string, AgentArtifactSpec> = {};
  for (const path of opts.artifacts) {
    const name = basename(path);
    const platform = artifactPlatform(name, opts.version);
    if (artifacts[platform]) throw new DuckError('usage', `${name}: a second tarball for ${platform}`);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) throw new DuckError('usage', `${path}: no such file`, { file: path });
    artifacts[platform] = { url: `${opts.urlBase.replace(/\/+$/, '')}/${name}`, sha256: await hashFile(path), size: info.size };
  }
  const value: Record<string, unknown> = { version: opts.version };
  if (opts.notes !== undefined && opts.notes !== '') value.notes = `${opts.notes.trimEnd()}\n`;
  value.artifacts = Object.fromEntries(Object.entries(artifacts).sort(([a], [b]) => (a < b ? -1 : 1)));
  const release = validateValue('agent-release', value, file);

  await mkdir(dir, { recursive: true });
  const target = join(dir, 'agent.yaml');
  const temp = `${target}.${process.pid}.tmp`;
  await writeFile(temp, renderAgentRelease(release));
  await rename(temp, target);
  return { file, release };
}

export function renderAgentRelease(release: AgentReleaseFile): string {
  const header = [
    `# yaml-language-server: $schema=${AGENT_RELEASE_SCHEMA_URL}`,
    `# Duck agent ${release.version}, written by \`duck release agent add\`. Published releases never change:`,
    '# fix a mistake with a new version. Upload each tarball to its url before a group asks for it.',
  ].join('\n');
  return `${header}\n${stringify(release, { lineWidth: 0 })}`;
}
