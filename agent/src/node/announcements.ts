// DESIGN §4.10: the channel's announcements in force on this node, read from the accepted commit,
// and the operator's acknowledgement of one (an act the writer carries out).
// announcements.yaml is not part of the accept: a notice file that does not read never holds back a
// release (lint refuses it before merge); `duck status` says why it could not be read instead.
import type { Announcement } from '../../../schemas/index.js';
import { DuckError } from '../../../schemas/errors.js';
import { acknowledgeRefusal, acknowledgementsAfter, announcementsInForce } from '../core/announcements.js';
import type { RequestResult } from '../core/operator-request.js';
import { readAnnouncementsIn } from '../channel/read-announcements.js';
import { runningBuild } from './agent-decision.js';
import type { AcceptedView } from './decisions.js';
import { readAcceptedLocally } from './decisions.js';
import type { NodeParts } from './wiring.js';

export type NodeAnnouncements =
  | { readonly all: readonly Announcement[]; readonly inForce: readonly Announcement[]; readonly unreadable: null }
  | { readonly all: readonly []; readonly inForce: readonly []; readonly unreadable: string };

/** The notices in force now for this node's group, installed app versions and agent version. */
export async function announcementsOnNode(node: NodeParts, view: AcceptedView | null): Promise<NodeAnnouncements> {
  if (!view) return { all: [], inForce: [], unreadable: null };
  let all: readonly Announcement[];
  try {
    all = await readAnnouncementsIn(view.tree);
  } catch (err) {
    if (err instanceof DuckError) return { all: [], inForce: [], unreadable: err.message };
    throw err;
  }
  const running = Object.fromEntries(Object.entries(node.state.read().apps).map(([app, installed]) => [app, installed.version]));
  const audience = { group: node.config.group, running, agentVersion: runningBuild().version };
  return { all, inForce: announcementsInForce(all, audience, node.clock()), unreadable: null };
}

/** The notices in force here, each with when its operator acknowledged it: `duck announcements` and the console's banner. */
export async function noticesOnNode(node: NodeParts): Promise<{ announcements: Array<Announcement & { acknowledgedAt: string | null }>; unreadable: string | null }> {
  const notices = await announcementsOnNode(node, await readAcceptedLocally(node));
  const acknowledged = node.state.read().acknowledged;
  return { announcements: notices.inForce.map((a) => ({ ...a, acknowledgedAt: acknowledged[a.id] ?? null })), unreadable: notices.unreadable };
}

/** `duck status`'s line for one notice, marked when the operator acknowledged it. */
export function announcementLine(a: Announcement, acknowledgedAt?: string): string {
  const mark = acknowledgedAt ? `, acknowledged ${acknowledgedAt}` : '';
  return `notice     [${a.severity}] ${a.title} (${a.id}, until ${a.expires}${mark})`;
}

/**
 * The act behind `duck announcements ack` and the console's button, run by the writer: records
 * when the operator acknowledged a notice in force here. Throws 'not-found' for an id the accepted
 * commit lacks, has expired or does not aim at this node.
 */
export async function acknowledge(node: NodeParts, id: string): Promise<RequestResult> {
  const notices = await announcementsOnNode(node, await readAcceptedLocally(node));
  if (notices.unreadable) throw new DuckError('invalid', `cannot acknowledge ${id}: ${notices.unreadable}`);
  const now = node.clock();
  const refusal = acknowledgeRefusal(notices.all, notices.inForce, id, now);
  if (refusal) throw new DuckError('not-found', refusal);
  const fileIds = new Set(notices.all.map((a) => a.id));
  const before = node.state.read().acknowledged[id];
  const after = await node.state.update((s) => {
    s.acknowledged = acknowledgementsAfter(s.acknowledged, fileIds, id, now.toISOString());
  });
  const at = after.acknowledged[id]!;
  const line = before ? `${id} was already acknowledged at ${at}` : `${id} acknowledged at ${at}`;
  return { ok: true, lines: [line], changes: [], data: { acknowledged: { id, at } } };
}
