// `duck release lint`: the rules of DESIGN §2 checked on a channel's working tree before merge,
// with the agent's own readers (read-release, trust-policy, windows) so that what lint passes is
// what agents accept. Every check runs; every problem is reported with its place.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_LIMITS } from '../core/limits.js';
import { COMPOSE_FILE_NAMES } from '../apply/app-layout.js';
import type { CommitTree } from '../channel/commit-tree.js';
import { AGENT_RELEASE_FILE, agentReleasePath, readAgentReleaseIn } from '../channel/read-agent-release.js';
import { ANNOUNCEMENTS_FILE, readAnnouncementsIn } from '../channel/read-announcements.js';
import { readRelease } from '../channel/read-release.js';
import { CHANNEL_FILE, readPolicy } from '../channel/trust-policy.js';
import { AGENT_PIN } from '../core/overlay-pins.js';
import { assertValidWindows } from '../core/window-spec.js';
import type { ChannelNames } from './announcement-targets.js';
import { channelNames, unknownTargets } from './announcement-targets.js';
import { checkCompose, unlistedImages } from './compose-check.js';
import { lintAgainstBase } from './lint-base.js';
import { lintPromotionFloor } from './lint-promotion.js';
import type { ThresholdStanding } from './lint-thresholds.js';
import { lintThresholds } from './lint-thresholds.js';
import type { LintProblem, TextOf } from './lint-problem.js';
import { byPosition, positionOf, problemsOf } from './lint-problem.js';
import type { LocalRepo } from './local-repo.js';
import { openWorkTree, walkTree } from './work-tree.js';

export interface LintResult {
  readonly problems: LintProblem[];
  readonly releases: number;
  readonly groups: number;
  /** With a base: each k-of-n rule the change touches, who signed it and how many are missing. */
  readonly thresholds: readonly ThresholdStanding[];
}

export interface LintOptions {
  /** With --base: the repository and the revision published releases are compared with. */
  readonly base?: { repo: LocalRepo; ref: string };
}

const RELEASE_FILE = 'release.yaml';

export async function lintChannel(dir: string, opts: LintOptions = {}): Promise<LintResult> {
  const tree = openWorkTree(dir);
  const textOf: TextOf = (file) => readFile(join(dir, ...file.split('/')), 'utf8').catch(() => null);
  const problems: LintProblem[] = [];
  const at = (file: string, message: string, code: LintProblem['code'] = 'invalid', field = ''): LintProblem => ({
    file,
    line: 1,
    column: 1,
    field,
    code,
    message,
  });

  const { files, links } = await walkTree(dir);
  for (const link of links) problems.push(at(link, 'a symbolic link: agents refuse links in a channel (commit the file itself)', 'unsafe-path'));

  if (!files.includes(CHANNEL_FILE)) problems.push(at(CHANNEL_FILE, 'missing: a channel needs its trust policy'));
  const policy = !files.includes(CHANNEL_FILE)
    ? null
    : await readPolicy(tree, []).catch(async (err: unknown) => void problems.push(...(await problemsOf(err, [CHANNEL_FILE], textOf))));

  const releaseDirs = new Map<string, { app: string; version: string }>();
  for (const file of files.filter((f) => f.startsWith('releases/'))) {
    const [, app, version, ...rest] = file.split('/');
    if (app === undefined || version === undefined || rest.length === 0) {
      problems.push(at(file, 'not inside a release directory: releases/<app>/<version>/'));
      continue;
    }
    if (app === AGENT_PIN) {
      problems.push(at(file, `no app may be named "${AGENT_PIN}": a node's overlay pins the agent's own version as pin.${AGENT_PIN}`, 'invalid'));
      continue;
    }
    releaseDirs.set(`releases/${app}/${version}`, { app, version });
  }
  for (const [releaseDir, { app, version }] of releaseDirs) {
    problems.push(...(await lintRelease(tree, textOf, files, releaseDir, app, version)));
  }
  if (policy?.channel) problems.push(...(await lintPromotionFloor(policy.channel, releaseDirs.values(), textOf)));

  const agentVersions = new Set<string>();
  for (const file of files.filter((f) => f.startsWith('agents/'))) {
    const [, version, ...rest] = file.split('/');
    if (version === undefined || rest.join('/') !== AGENT_RELEASE_FILE) {
      problems.push(at(file, `agents/<version>/ holds only ${AGENT_RELEASE_FILE}: the build tarballs live on an HTTP(S) server (duck release agent add)`));
      continue;
    }
    agentVersions.add(version);
  }
  for (const version of agentVersions) {
    await readAgentReleaseIn(tree, version).catch(async (err: unknown) => problems.push(...(await problemsOf(err, [agentReleasePath(version)], textOf))));
  }

  const groupFiles = files.filter((f) => /^groups\/[^/]+$/.test(f) && f !== 'groups/README.md');
  for (const file of groupFiles) {
    if (!file.endsWith('.yaml')) {
      problems.push(at(file, 'agents read groups/<group>.yaml only: rename it to .yaml'));
      continue;
    }
    problems.push(...(await lintGroup(tree, textOf, file)));
  }
  if (groupFiles.length === 0) problems.push(at('groups/', 'no group file: nodes read groups/<group>.yaml'));

  if (files.includes(ANNOUNCEMENTS_FILE)) problems.push(...(await lintAnnouncements(tree, textOf, channelNames(files))));

  if (opts.base) problems.push(...(await lintAgainstBase(opts.base.repo, opts.base.ref, tree, textOf)));
  const thresholds = opts.base ? await lintThresholds(opts.base.repo, opts.base.ref, textOf) : { problems: [], standing: [] };
  problems.push(...thresholds.problems);
  return { problems: problems.sort(byPosition), releases: releaseDirs.size, groups: groupFiles.length, thresholds: thresholds.standing };
}

async function lintRelease(tree: CommitTree, textOf: TextOf, files: readonly string[], dir: string, app: string, version: string): Promise<LintProblem[]> {
  const releaseFile = `${dir}/${RELEASE_FILE}`;
  if (!files.includes(releaseFile)) {
    return [{ file: `${dir}/`, line: 1, column: 1, field: '', code: 'invalid', message: `a release directory needs a ${RELEASE_FILE}` }];
  }
  const problems: LintProblem[] = [];
  const listed = await readRelease(tree, app, version, { file: releaseFile, field: '' }).then(
    (content) => content.release.images?.map((i) => i.ref) ?? [],
    async (err: unknown) => {
      problems.push(...(await problemsOf(err, [releaseFile], textOf)));
      return null;
    },
  );

  const mine = files.filter((f) => f.startsWith(`${dir}/`));
  for (const file of mine) {
    const size = (await tree.readFile(file).catch(() => null))?.length ?? 0;
    if (size > DEFAULT_LIMITS.maxFileBytes) {
      problems.push({
        file,
        line: 1,
        column: 1,
        field: '',
        code: 'too-large',
        message: `${size} bytes: agents refuse channel files over ${DEFAULT_LIMITS.maxFileBytes} bytes (limits.maxFileBytes); serve large image archives over HTTP (duck release add --archive-base-url)`,
      });
    }
  }

  const composeName = COMPOSE_FILE_NAMES.find((name) => mine.includes(`${dir}/${name}`));
  if (composeName === undefined) {
    const where = (await positionOf(textOf, releaseFile, '/files')) ?? { line: 1, column: 1 };
    problems.push({ file: releaseFile, ...where, field: '/files', code: 'invalid', message: `no compose file (${COMPOSE_FILE_NAMES.join(', ')}) in ${dir}/` });
    return problems;
  }
  const composeFile = `${dir}/${composeName}`;
  const compose = checkCompose((await textOf(composeFile)) ?? '', composeFile);
  problems.push(...compose.problems);
  if (listed !== null) problems.push(...unlistedImages(compose.images, listed, composeFile));
  return problems;
}

async function lintGroup(tree: CommitTree, textOf: TextOf, file: string): Promise<LintProblem[]> {
  try {
    const group = await tree.readYaml('group', file);
    assertValidWindows(group.windows ?? [], { file, field: '/windows' });
    const problems: LintProblem[] = [];
    for (const [app, version] of Object.entries(group.apps)) {
      if (app === AGENT_PIN) {
        const field = `/apps/${app}`;
        const where = (await positionOf(textOf, file, '/apps', app)) ?? { line: 1, column: 1 };
        problems.push({ file, ...where, field, code: 'invalid', message: `no app may be named "${AGENT_PIN}": the agent's own version is the group's agent: { version }` });
        continue;
      }
      const releaseFile = `releases/${app}/${version}/${RELEASE_FILE}`;
      if ((await tree.blobId(releaseFile).catch(() => null)) !== null) continue;
      const field = `/apps/${app}`;
      const where = (await positionOf(textOf, file, field)) ?? { line: 1, column: 1 };
      problems.push({ file, ...where, field, code: 'invalid', message: `${app} ${version} does not exist: there is no ${releaseFile}` });
    }
    if (group.agent && (await tree.blobId(agentReleasePath(group.agent.version)).catch(() => null)) === null) {
      const field = '/agent/version';
      const where = (await positionOf(textOf, file, field)) ?? { line: 1, column: 1 };
      const message = `agent ${group.agent.version} does not exist: there is no ${agentReleasePath(group.agent.version)} (duck release agent add)`;
      problems.push({ file, ...where, field, code: 'invalid', message });
    }
    return problems;
  } catch (err) {
    return problemsOf(err, [file], textOf);
  }
}

/** announcements.yaml: the schema (a required expiry, well-formed ranges), unique ids, and targets the channel has. */
async function lintAnnouncements(tree: CommitTree, textOf: TextOf, names: ChannelNames): Promise<LintProblem[]> {
  try {
    const announcements = await readAnnouncementsIn(tree);
    const problems: LintProblem[] = [];
    for (const [i, a] of announcements.entries()) {
      for (const { field, message } of unknownTargets(a, i, names)) {
        const where = (await positionOf(textOf, ANNOUNCEMENTS_FILE, field)) ?? { line: 1, column: 1 };
        problems.push({ file: ANNOUNCEMENTS_FILE, ...where, field, code: 'invalid', message });
      }
    }
    return problems;
  } catch (err) {
    return problemsOf(err, [ANNOUNCEMENTS_FILE], textOf);
  }
}
