// One agent: its facts, its channel (commit, age, stale, refusal, a fetch that fails), its apps
// and decisions (the group's version beside its own, pins, stops, waits, back-offs), its history
// (newest first, outcomes coloured, the agent's own self-updates among them), its agent block (the
// version asked of it, the decision, versions that failed here) and its diagnostics bundles.
import { agentUpdateBlock, agentUpdateChange } from './agent-builds.js';
import { diagnosticsHref } from './api.js';
import { appNotes } from './app-notes.js';
import { outcomeBadge, stateBadge } from './badges.js';
import { el, panel, table } from './dom.js';
import { ago, bytes, dateTime, fromNow, plural, shortCommit } from './format.js';

function facts(agent, now) {
  const rows = [
    ['Agent id', el('code', {}, agent.agentId)],
    ['Group', agent.group],
    ['OS', agent.os],
    ['Architecture', agent.arch],
    ['Agent version', agent.agentVersion],
    ['Docker', agent.docker ?? 'none found'],
    ['Compose', agent.compose ?? 'none found'],
    ['Enrolled', dateTime(agent.enrolledAt)],
    ['Last seen', `${dateTime(agent.lastSeenAt)} (${ago(agent.lastSeenAt, now)})`],
    ['Changes', agent.held ? el('span', { class: 'tag tag-warn', data: { note: 'held' } }, 'held by an operator (duck hold)') : 'not held'],
  ];
  return el('dl', { class: 'facts' }, rows.map(([term, value]) => [el('dt', {}, term), el('dd', {}, value)]));
}

function channel(ch, now) {
  if (!ch) return el('p', { class: 'muted' }, 'This agent has not accepted a channel commit yet.');
  const rows = [
    ['Commit', el('code', { title: ch.commit ?? '' }, shortCommit(ch.commit))],
    ['Committed', `${dateTime(ch.committedAt)} (${ago(ch.committedAt, now)})`],
    ['Accepted', dateTime(ch.acceptedAt)],
    ['Last check', ch.lastCheckAt ? `${dateTime(ch.lastCheckAt)} (${ago(ch.lastCheckAt, now)})` : '—'],
    ['Fresh', freshness(ch)],
  ];
  return [
    el('dl', { class: 'facts' }, rows.map(([term, value]) => [el('dt', {}, term), el('dd', {}, value)])),
    ch.refusal
      ? el(
          'div',
          { class: 'refusal', role: 'note' },
          el('strong', {}, `Tip refused: ${ch.refusal.reason}`),
          el('p', {}, ch.refusal.message),
          el('p', { class: 'muted' }, dateTime(ch.refusal.at)),
        )
      : null,
    ch.fetchFailure ? fetchFailure(ch.fetchFailure, now) : null,
  ];
}

function freshness(ch) {
  if (ch.fetchFailure) return el('span', { class: 'tag tag-unreachable' }, 'unknown: the channel cannot be fetched');
  return ch.stale ? el('span', { class: 'tag tag-warn' }, 'stale: older than the channel allows') : 'yes';
}

function fetchFailure(f, now) {
  return el(
    'div',
    { class: 'fetch-failure', role: 'note' },
    el('strong', {}, `Cannot reach the channel since ${dateTime(f.since)} (${ago(f.since, now)}): ${f.reason}`),
    el('p', { class: 'fetch-message' }, f.message),
    el(
      'p',
      { class: 'muted' },
      `${plural(f.failures, 'failed fetch', 'failed fetches')} in a row, the last ${ago(f.at, now)}; next try ${dateTime(f.nextTryAt)} (${fromNow(f.nextTryAt, now)}). `,
      'It runs what it accepted last.',
    ),
  );
}

function apps(list, now) {
  if (list.length === 0) return el('p', { class: 'muted' }, 'No apps.');
  return table(
    ['App', 'Current', 'Desired here', "Group's version", 'Decision', 'Reason'],
    list.map((a) =>
      el(
        'tr',
        { data: { app: a.app } },
        el('td', {}, el('strong', {}, a.app), a.state && a.state !== 'running' && a.state !== 'stopped' ? el('span', { class: `tag tag-${a.state === 'failed' ? 'bad' : 'warn'}` }, a.state) : null),
        el('td', {}, a.current ?? 'none'),
        el('td', {}, a.desired ?? 'none'),
        el('td', { class: 'group-version' }, a.groupVersion === undefined ? '—' : (a.groupVersion ?? 'none')),
        el('td', {}, el('span', { class: `decision decision-${a.decision}` }, a.decision), el('div', { class: 'notes' }, appNotes(a, now))),
        el('td', { class: 'reason' }, a.reason, a.failedVersion ? el('div', { class: 'muted' }, `${a.failedVersion} failed here`) : null),
      ),
    ),
    { class: 'agent-apps' },
  );
}

function change(event) {
  if (event.type === 'agent-update') return agentUpdateChange(event);
  if (!event.app) return null;
  if (event.from === undefined && event.to === undefined) return el('strong', {}, event.app);
  return [el('strong', {}, event.app), ` ${event.from ?? 'none'} → ${event.to ?? 'none'}`];
}

function history(events, now) {
  if (events.length === 0) return el('p', { class: 'muted' }, 'No events yet.');
  return el(
    'ol',
    { class: 'history' },
    events.map((e) =>
      el(
        'li',
        { class: `event${e.outcome ? ` outcome-line-${e.outcome}` : ''}`, data: { eventId: e.id, type: e.type, outcome: e.outcome ?? '' } },
        el('time', { datetime: e.at, title: dateTime(e.at) }, ago(e.at, now)),
        el(
          'div',
          { class: 'event-body' },
          el('div', {}, el('span', { class: 'event-type' }, e.type), ' ', e.outcome ? outcomeBadge(e.outcome) : null, ' ', change(e), e.count ? ` (${e.count} events)` : null),
          e.reason ? el('div', { class: 'reason' }, e.reason) : null,
          e.commit || e.ms !== undefined
            ? el('div', { class: 'muted small' }, e.commit ? `commit ${shortCommit(e.commit)}` : null, e.commit && e.ms !== undefined ? ' · ' : null, e.ms !== undefined ? `${(e.ms / 1000).toFixed(1)} s` : null)
            : null,
        ),
      ),
    ),
  );
}

function diagnostics(list, now) {
  if (list.length === 0) return el('p', { class: 'muted' }, 'No diagnostics uploaded. Run `duck diagnostics --upload` on the node.');
  return table(
    ['Bundle', 'Size', 'sha256', 'Received'],
    list.map((d) =>
      el(
        'tr',
        { data: { diagnosticsId: d.id } },
        el('td', {}, el('a', { class: 'download', href: diagnosticsHref(d.id), download: d.filename }, d.filename)),
        el('td', { class: 'num' }, bytes(d.bytes)),
        el('td', {}, el('code', { title: d.sha256 }, d.sha256.slice(0, 12))),
        el('td', {}, ago(d.receivedAt, now)),
      ),
    ),
    { class: 'diagnostics' },
  );
}

export function renderAgentPage({ agent, events, diagnostics: bundles }, now) {
  return el(
    'div',
    { class: 'agent-page', data: { agentId: agent.agentId } },
    el('a', { class: 'back', href: '#/' }, '← Fleet'),
    el('h1', {}, el('span', { class: 'hostname' }, agent.hostname), ' ', stateBadge(agent.state)),
    el(
      'div',
      { class: 'columns' },
      panel('Node', { class: 'card panel facts-panel' }, facts(agent, now)),
      panel('Channel', { class: 'card panel channel-panel' }, channel(agent.channel, now)),
    ),
    panel('Apps', { class: 'card panel apps-panel' }, apps(agent.apps, now)),
    panel('Duck agent', { class: 'card panel agent-update-panel' }, agentUpdateBlock(agent, now)),
    panel('History', { class: 'card panel history-panel' }, history(events, now)),
    panel('Diagnostics', { class: 'card panel diagnostics-panel' }, diagnostics(bundles, now)),
  );
}

export function renderMissingAgent(agentId) {
  return el('div', { class: 'agent-page' }, el('a', { class: 'back', href: '#/' }, '← Fleet'), el('h1', {}, 'No such agent'), el('p', {}, `No agent has the id ${agentId}.`));
}
