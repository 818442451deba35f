// DESIGN §4.10: what an announcement may target in a channel. A group or app the channel does not
// have is a typo that would silently show the notice to no node, so both `duck release announce`
// and lint refuse it.
import type { Announcement } from '../../../schemas/index.js';

/** The channel's groups (groups/<group>.yaml) and apps (releases/<app>/). */
export interface ChannelNames {
  readonly groups: ReadonlySet<string>;
  readonly apps: ReadonlySet<string>;
}

export interface TargetProblem {
  /** A JSON pointer inside announcements.yaml, e.g. /0/target/groups/1. */
  readonly field: string;
  readonly message: string;
}

/** The names the channel lacks among one announcement's targets (at index `i` of the file). */
export function unknownTargets(a: Announcement, i: number, names: ChannelNames): TargetProblem[] {
  const problems: TargetProblem[] = [];
  (a.target?.groups ?? []).forEach((group, g) => {
    if (!names.groups.has(group)) problems.push({ field: `/${i}/target/groups/${g}`, message: `no group "${group}": there is no groups/${group}.yaml` });
  });
  for (const app of Object.keys(a.target?.apps ?? {})) {
    if (!names.apps.has(app)) problems.push({ field: `/${i}/target/apps/${app}`, message: `no app "${app}": there is no releases/${app}/` });
  }
  return problems;
}

/** The names of a channel from its file list (paths relative to its root). */
export function channelNames(files: readonly string[]): ChannelNames {
  const groups = new Set<string>();
  const apps = new Set<string>();
  for (const file of files) {
    const group = /^groups\/([^/]+)\.yaml$/.exec(file);
    if (group) groups.add(group[1]!);
    const app = /^releases\/([^/]+)\/[^/]+\//.exec(file);
    if (app) apps.add(app[1]!);
  }
  return { groups, apps };
}
