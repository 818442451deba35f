// DESIGN §4.10, §5: per announcement, how many nodes have it in force ("seen") and how many of
// their operators acknowledged it, from each agent's latest status. Pure, one pass over the agents.
import type { AnnouncementSeverity } from '../../schemas/index.js';
import type { AgentRecord } from './store/fleet-store.js';

export interface AnnouncementCount {
  id: string;
  /** The title and severity the newest report naming it gave; null from agents that sent the id alone. */
  title: string | null;
  severity: AnnouncementSeverity | null;
  /** Nodes whose latest status has it in force. */
  seen: number;
  /** Of those, nodes whose operator acknowledged it. */
  acknowledged: number;
}

/** The announcements the fleet reports, by id. Each node counts once per id, however its report repeats it. */
export function announcementCounts(agents: Iterable<Pick<AgentRecord, 'status' | 'lastSeenAt'>>): AnnouncementCount[] {
  const counts = new Map<string, AnnouncementCount & { at: string }>();
  for (const agent of agents) {
    const notices = agent.status?.announcements;
    if (!notices?.length) continue;
    const acked = new Set(agent.status?.acknowledged ?? []);
    const at = agent.lastSeenAt ?? '';
    for (const id of new Set(notices.map((n) => (typeof n === 'string' ? n : n.id)))) {
      const entry = counts.get(id) ?? { id, title: null, severity: null, seen: 0, acknowledged: 0, at: '' };
      entry.seen++;
      if (acked.has(id)) entry.acknowledged++;
      counts.set(id, entry);
    }
    // The newest report's words win: a notice's title may be corrected in the channel.
    for (const n of notices) {
      const entry = counts.get(typeof n === 'string' ? n : n.id)!;
      if (typeof n !== 'string' && (entry.title === null || at >= entry.at)) Object.assign(entry, { title: n.title, severity: n.severity, at });
    }
  }
  return [...counts.values()].map(({ at: _at, ...count }) => count).sort((a, b) => a.id.localeCompare(b.id));
}
