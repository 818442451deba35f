import type { Announcement } from '../../../schemas/index.js';
import { renderMarkdown } from './markdown.js';
import type { ConsoleRoute } from './routes.js';

/** A notice in force on the node, with when its operator acknowledged it (null: not yet). */
export type NoticeOnNode = Announcement & { readonly acknowledgedAt: string | null };

export interface AnnouncementsDeps {
  /** The notices in force now, or why announcements.yaml could not be read. */
  inForce(): Promise<{ readonly announcements: readonly NoticeOnNode[]; readonly unreadable: string | null }>;
  /** Acknowledges `id` through the one writer; throws a DuckError naming why when refused. */
  acknowledge(id: string): Promise<{ readonly id: string; readonly at: string }>;
}

/** What the banner shows of a notice: its body as safe HTML, never the Markdown source. */
export interface ConsoleNotice {
  readonly id: string;
  readonly title: string;
  readonly severity: Announcement['severity'];
  readonly expires: string;
  readonly bodyHtml: string;
  readonly acknowledgedAt: string | null;
}

/** Pure: a notice as the page gets it. */
export function consoleNotice(a: NoticeOnNode): ConsoleNotice {
  return { id: a.id, title: a.title, severity: a.severity, expires: a.expires, bodyHtml: renderMarkdown(a.body), acknowledgedAt: a.acknowledgedAt };
}

/**
 * `GET /api/announcements`: the notices in force (DESIGN §4.10) for the banner;
 * `POST /api/announcements/:id/ack`: the operator acknowledges one, as `duck announcements ack` does.
 */
export function announcementRoutes(deps: AnnouncementsDeps): ConsoleRoute[] {
  return [
    {
      method: 'GET',
      pattern: '/api/announcements',
      handle: async (call) => {
        const { announcements, unreadable } = await deps.inForce();
        call.send(200, { announcements: announcements.map(consoleNotice), unreadable });
      },
    },
    {
      method: 'POST',
      pattern: '/api/announcements/:id/ack',
      handle: async (call) => call.send(200, { ok: true, acknowledged: await deps.acknowledge(call.params.id!) }),
    },
  ];
}
