// The "Announcements" panel: per notice of the channel, how many nodes have it in force and how many
// of their operators acknowledged it (GET /api/v1/announcements).
import { el, table } from './dom.js';

const SEVERITY_TAGS = { info: 'tag-info', warning: 'tag-warn', critical: 'tag-bad' };

export function announcementsTable(announcements) {
  if (announcements.length === 0) return el('p', { class: 'muted' }, 'No announcements in force on any node.');
  const rows = announcements.map((a) =>
    el(
      'tr',
      { data: { announcement: a.id } },
      el('td', {}, el('code', {}, a.id)),
      el('td', {}, a.title ?? el('span', { class: 'muted' }, 'unknown')),
      el('td', {}, a.severity ? el('span', { class: `tag ${SEVERITY_TAGS[a.severity] ?? ''}`, data: { severity: a.severity } }, a.severity) : el('span', { class: 'muted' }, '—')),
      el('td', { class: 'num', data: { metric: 'seen' } }, String(a.seen)),
      el('td', { class: 'num', data: { metric: 'acknowledged' } }, String(a.acknowledged)),
    ),
  );
  const num = (label, title) => ({ label, class: 'num', title });
  return table(
    [
      'Id',
      'Title',
      'Severity',
      num('Seen', 'Nodes that have it in force (their latest report)'),
      num('Acknowledged', 'Of those, nodes whose operator acknowledged it'),
    ],
    rows,
    { class: 'announcements' },
  );
}
