// The dashboard: this node's channel, its agent, and per app the running and asked versions with
// the decision and its reason, as `duck status` says them.
import { el, panel, table } from '../dom.js';
import { pageHash } from '../routes.js';
import { stackedTable } from '../stacked-table.js';
import { historyRows } from './history.js';

/** What the dashboard's recent activity shows; the History page has the rest. */
const RECENT = 5;

const EMPTY = '—';

function appRows(apps) {
  return apps.map((a) => [
    el('a', { class: 'app-name', href: pageHash('app', a.app) }, a.app),
    el('span', { class: 'state', data: { state: a.state ?? 'unknown' } }, a.state ?? 'unknown'),
    a.current ?? EMPTY,
    a.desired ?? EMPTY,
    el('span', { class: 'decision', data: { decision: a.decision } }, a.decision),
    a.reason ?? EMPTY,
    upgradeNow(a),
  ]);
}

/**
 * An app whose asked version is not what runs: *Upgrade now* (pages/upgrade.js) or *Schedule* it
 * for later (the app's page, pages/app.js), as the update notice of the original client offered.
 */
function upgradeNow(a) {
  if (!a.desired || a.desired === a.current) return '';
  return el(
    'span',
    { class: 'update-actions' },
    el('a', { class: 'button upgrade-now', href: pageHash('upgrade', a.app), 'aria-label': `Upgrade ${a.app} now` }, 'Upgrade now'),
    ' ',
    el('a', { class: 'schedule-upgrade', href: pageHash('app', a.app), 'aria-label': `Schedule the upgrade of ${a.app}` }, 'Schedule'),
  );
}

function recentActivity(answer) {
  if (answer.history.length === 0) return el('p', {}, 'Nothing yet: the agent has changed nothing on this node.');
  return [stackedTable(['When', 'App', 'Outcome', 'Versions', 'Why'], historyRows(answer.history), { class: 'history-table recent' }), el('p', {}, el('a', { href: pageHash('history') }, 'All history'))];
}

/** The agent's own build: what runs, and what the channel asks with why it waits. */
function agentLine(agent) {
  if (!agent) return EMPTY;
  if (!agent.desired || agent.desired === agent.current) return agent.current;
  return `${agent.current}; ${agent.desired} asked: ${agent.reason}`;
}

export async function render(main, { status, api }) {
  const [s, recent] = await Promise.all([status(), api.history({ limit: RECENT })]);
  const accepted = s.channel.accepted;
  main.append(
    el('h1', {}, 'Dashboard'),
    panel(
      'This node',
      { class: 'panel node' },
      el(
        'dl',
        { class: 'facts' },
        el('dt', {}, 'Group'),
        el('dd', {}, s.group),
        el('dt', {}, 'Channel'),
        el('dd', {}, s.channel.url),
        el('dt', {}, 'Accepted'),
        el('dd', {}, accepted ? `${accepted.commit.slice(0, 12)} signed by ${accepted.signerName}, committed ${accepted.committedAt}` : 'nothing yet'),
        el('dt', {}, 'Duck agent'),
        el('dd', { class: 'agent-version' }, agentLine(s.agent)),
      ),
    ),
    panel('Apps', { class: 'panel apps' }, s.apps.length === 0 ? el('p', {}, 'No apps yet.') : table(['App', 'State', 'Running', 'Asked', 'Decision', 'Why', 'Act'], appRows(s.apps), { class: 'apps-table' })),
    panel('Recent activity', { class: 'panel recent-activity' }, recentActivity(recent)),
  );
}
