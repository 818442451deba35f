// DESIGN §4.10: which of the channel's announcements are in force on this node. Pure: the node's
// group, the versions its apps run, its agent version and the clock are arguments.
import type { Announcement } from '../../../schemas/index.js';
import { satisfiesRange } from './version-range.js';

export interface AnnouncementAudience {
  /** The node's group; null when it has none (then no group-targeted notice is for it). */
  readonly group: string | null;
  /** App -> the version it runs now; an app that runs nothing is absent. */
  readonly running: Readonly<Record<string, string>>;
  readonly agentVersion: string;
}

/** The announcements in force for `node` at `now`, in the file's order. */
export function announcementsInForce(all: readonly Announcement[], node: AnnouncementAudience, now: Date): Announcement[] {
  return all.filter((a) => !isExpired(a, now) && isTargeted(a, node));
}

/** An announcement is over at its expiry: one that expires at `now` is no longer shown. */
export function isExpired(a: Announcement, now: Date): boolean {
  return Date.parse(a.expires) <= now.getTime();
}

/** Every key of the target must match; an app target matches when any one listed app is in its range. */
function isTargeted(a: Announcement, node: AnnouncementAudience): boolean {
  const target = a.target;
  if (!target) return true;
  if (target.groups && (node.group === null || !target.groups.includes(node.group))) return false;
  if (target.apps) {
    const anyApp = Object.entries(target.apps).some(([app, range]) => {
      const version = node.running[app];
      return version !== undefined && satisfiesRange(version, range);
    });
    if (!anyApp) return false;
  }
  if (target.agent !== undefined && !satisfiesRange(node.agentVersion, target.agent)) return false;
  return true;
}

/** Why `id` cannot be acknowledged on this node now (unknown, expired, aimed elsewhere), or null when it can. */
export function acknowledgeRefusal(all: readonly Announcement[], inForce: readonly Announcement[], id: string, now: Date): string | null {
  const notice = all.find((a) => a.id === id);
  if (!notice) return `no announcement ${id} in the accepted channel commit (duck announcements lists the ones in force)`;
  if (isExpired(notice, now)) return `announcement ${id} expired at ${notice.expires}: there is nothing left to acknowledge`;
  if (!inForce.some((a) => a.id === id)) return `announcement ${id} is not for this node (its target does not match it)`;
  return null;
}

/**
 * The acknowledgements kept once `id` is acknowledged at `at`: only ids still in the channel's
 * announcements file survive, so the record never grows past the file however long the node lives.
 * A second acknowledgement keeps the first time.
 */
export function acknowledgementsAfter(
  acknowledged: Readonly<Record<string, string>>,
  fileIds: ReadonlySet<string>,
  id: string,
  at: string,
): Record<string, string> {
  const kept = Object.fromEntries(Object.entries(acknowledged).filter(([known]) => fileIds.has(known)));
  return { ...kept, [id]: kept[id] ?? at };
}
