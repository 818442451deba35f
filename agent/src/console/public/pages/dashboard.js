// The dashboard: this node's channel, its agent, and per app the running and asked versions with
// the decision and its reason, as `duck status` says them.
import { el, panel, table } from '../dom.js';
import { pageHash } from '../routes.js';

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

/** An app whose asked version is not what runs gets the upgrade page's link (pages/upgrade.js). */
function upgradeNow(a) {
  if (!a.desired || a.desired === a.current) return '';
  return el('a', { class: 'button upgrade-now', href: pageHash('upgrade', a.app), 'aria-label': `Upgrade ${a.app} now` }, 'Upgrade now');
}

/** The agent's own build: what runs, and what the channel asks with why it waits. */
function agentLine(agent) {
  if (!agent) return EMPTY;
  if (!agent.desired || agent.desired === agent.current) return agent.current;
  return `${agent.current}; ${agent.desired} asked: ${agent.reason}`;
}

export async function render(main, { status }) {
  const s = await status();
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
  );
}
