// DESIGN §4.10: the channel's announcements in force on this node, read from the accepted commit.
// announcements.yaml is not part of the accept: a notice file that does not read never holds back a
// release (lint refuses it before merge); `duck status` says why it could not be read instead.
import type { Announcement } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import { announcementsInForce } from '../core/announcements.js';
import { readAnnouncementsIn } from '../channel/read-announcements.js';
import { runningBuild } from './agent-decision.js';
import type { AcceptedView } from './decisions.js';
import type { NodeParts } from './wiring.js';

export type NodeAnnouncements = { readonly inForce: readonly Announcement[]; readonly unreadable: null } | { readonly inForce: readonly []; readonly unreadable: string };

/** The notices in force now for this node's group, installed app versions and agent version. */
export async function announcementsOnNode(node: NodeParts, view: AcceptedView | null): Promise<NodeAnnouncements> {
  if (!view) return { inForce: [], unreadable: null };
  let all: readonly Announcement[];
  try {
    all = await readAnnouncementsIn(view.tree);
  } catch (err) {
    if (err instanceof DuckError) return { inForce: [], unreadable: err.message };
    throw err;
  }
  const running = Object.fromEntries(Object.entries(node.state.read().apps).map(([app, installed]) => [app, installed.version]));
  const audience = { group: node.config.group, running, agentVersion: runningBuild().version };
  return { inForce: announcementsInForce(all, audience, node.clock()), unreadable: null };
}

/** `duck status`'s line for one notice. */
export function announcementLine(a: Announcement): string {
  return `notice     [${a.severity}] ${a.title} (${a.id}, until ${a.expires})`;
}
