// The agents table and its filters (group, app, version, state, the duck agent's version and an
// agent version that failed). The filter form is built once and
// kept across refreshes; only its options and the rows are renewed. The controller sends agents a
// page at a time: the table shows the pages loaded, and "Show more" asks for the next.
import { appNotes, groupVersionNote } from './app-notes.js';
import { stateBadge } from './badges.js';
import { el, table } from './dom.js';
import { STATES, STATE_LABELS, ago, fromNow, plural, shortCommit } from './format.js';
import { FILTER_KEYS, agentHref } from './routes.js';

const FILTER_LABELS = { group: 'Group', app: 'App', version: 'Version', state: 'State', agentVersion: 'Agent', agentFailed: 'Agent failed' };

const byName = (a, b) => a.localeCompare(b, undefined, { numeric: true });
const byHostnameThenId = (a, b) => byName(a.hostname, b.hostname) || (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0);

/** The choices each filter offers, from the fleet summary and the other filters chosen. */
function filterChoices(fleet, filters) {
  const groups = fleet.groups.filter((g) => !filters.group || g.group === filters.group);
  const apps = groups.flatMap((g) => g.apps);
  const versions = apps.filter((a) => !filters.app || a.app === filters.app).flatMap((a) => a.versions.map((v) => v.version));
  return {
    group: fleet.groups.map((g) => [g.group, g.group]).sort((a, b) => byName(a[0], b[0])),
    app: [...new Set(apps.map((a) => a.app))].sort(byName).map((a) => [a, a]),
    version: [...new Set(versions.filter((v) => v !== null))].sort(byName).map((v) => [v, v]),
    state: STATES.map((s) => [s, STATE_LABELS[s]]),
    // A controller from before agent versions sends groups without `agent`.
    agentVersion: agentChoices(groups, 'versions'),
    agentFailed: agentChoices(groups, 'failed'),
  };
}

function agentChoices(groups, list) {
  return [...new Set(groups.flatMap((g) => (g.agent?.[list] ?? []).map((v) => v.version)))].sort(byName).map((v) => [v, v]);
}

function setOptions(select, choices, value) {
  const wanted = [['', 'All'], ...choices];
  // A value from the address that the fleet no longer has stays selectable, so the filter shows.
  if (value && !choices.some(([v]) => v === value)) wanted.push([value, value]);
  const same = select.options.length === wanted.length && wanted.every(([v, label], i) => select.options[i].value === v && select.options[i].text === label);
  if (!same) select.replaceChildren(...wanted.map(([v, label]) => el('option', { value: v }, label)));
  select.value = value;
}

/** Each app: running → wanted here, the group's version when a pin differs, and its notes. */
function appsCell(apps, now) {
  return el(
    'td',
    {},
    el(
      'div',
      { class: 'apps-cell' },
      apps.map((a) =>
        el(
          'span',
          { class: `app-chip${a.current !== a.desired ? ' behind' : ''}`, title: a.reason, data: { app: a.app } },
          el('strong', {}, a.app),
          ` ${a.current ?? 'none'}`,
          a.current !== a.desired ? ` → ${a.desired ?? 'none'}` : null,
          groupVersionNote(a),
          appNotes(a, now),
        ),
      ),
    ),
  );
}

function channelCell(channel, now) {
  if (!channel) return el('td', { class: 'wide-only muted' }, 'never accepted');
  return el(
    'td',
    { class: 'wide-only' },
    el('code', {}, shortCommit(channel.commit)),
    el('span', { class: 'muted' }, ` · ${ago(channel.committedAt, now)}`),
    channel.stale ? el('span', { class: 'tag tag-warn' }, 'stale') : null,
    channel.refusal ? el('span', { class: 'tag tag-bad', title: channel.refusal.message }, `refused: ${channel.refusal.reason}`) : null,
    channel.fetchFailure ? unreachableTag(channel.fetchFailure, now) : null,
  );
}

/** Past this the message is cut in the table; the whole of it is in the title and on the agent page. */
const MESSAGE_CHARS = 120;

function unreachableTag(f, now) {
  const message = f.message.length > MESSAGE_CHARS ? `${f.message.slice(0, MESSAGE_CHARS)}…` : f.message;
  return [
    el(
      'span',
      { class: 'tag tag-unreachable', data: { note: 'unreachable' }, title: `${f.reason}: ${f.message} (${f.failures} failures in a row; next try ${fromNow(f.nextTryAt, now)})` },
      `unreachable since ${ago(f.since, now)}`,
    ),
    el('div', { class: 'reason fetch-reason' }, `${f.reason}: ${message} · next try ${fromNow(f.nextTryAt, now)}`),
  ];
}

/** Agent versions that failed a self-update here: the node keeps its old build until their release changes. */
function agentFailedTag(update) {
  const versions = update?.failed.map((f) => f.version) ?? [];
  if (versions.length === 0) return null;
  return el(
    'span',
    { class: 'tag tag-bad', data: { note: 'agent-failed' }, title: update.failed.map((f) => `${f.version} (${f.step}): ${f.reason}`).join('\n') },
    `agent ${versions.join(', ')} failed`,
  );
}

function agentRow(agent, now) {
  return el(
    'tr',
    { data: { agentId: agent.agentId, state: agent.state } },
    el('td', {}, stateBadge(agent.state)),
    el(
      'td',
      {},
      el('a', { class: 'hostname', href: agentHref(agent.agentId) }, agent.hostname),
      agent.held ? el('span', { class: 'tag tag-warn', data: { note: 'held' }, title: 'An operator holds all changes here (duck hold)' }, 'held') : null,
      agentFailedTag(agent.agentUpdate),
    ),
    el('td', { class: 'wide-only' }, agent.group),
    appsCell(agent.apps, now),
    channelCell(agent.channel, now),
    el('td', { class: 'wide-only' }, ago(agent.lastSeenAt, now)),
  );
}

export function createAgentsPanel(onFilter, onMore) {
  const selects = {};
  const form = el('form', { class: 'filters', 'aria-label': 'Filter agents' });
  for (const key of FILTER_KEYS) {
    selects[key] = el('select', { id: `filter-${key}`, name: key });
    form.append(el('div', { class: 'field' }, el('label', { for: `filter-${key}` }, FILTER_LABELS[key]), selects[key]));
  }
  const clear = el('a', { class: 'button quiet clear-filters', href: '#/' }, 'Clear filters');
  form.append(clear);
  form.addEventListener('change', () => {
    const filters = {};
    for (const key of FILTER_KEYS) filters[key] = selects[key].value;
    onFilter(filters);
  });
  form.addEventListener('submit', (event) => event.preventDefault());

  const summary = el('p', { class: 'muted table-summary', 'aria-live': 'polite' });
  const body = el('div');
  const more = el('button', { type: 'button', class: 'button quiet show-more', hidden: true }, 'Show more');
  more.addEventListener('click', () => {
    more.disabled = true;
    onMore();
  });
  const node = el('section', { class: 'card panel agents-panel' }, el('h2', {}, 'Agents'), form, summary, body, more);

  function update(fleet, list, filters, now) {
    const choices = filterChoices(fleet, filters);
    for (const key of FILTER_KEYS) setOptions(selects[key], choices[key], filters[key]);
    clear.hidden = FILTER_KEYS.every((key) => !filters[key]);
    const shown = [...list.agents].sort(byHostnameThenId);
    const filtered = !clear.hidden;
    if (list.next === null) summary.textContent = `${plural(shown.length, 'agent')}${filtered ? ' match the filters' : ''}.`;
    else if (filtered) summary.textContent = `${plural(shown.length, 'agent')} of the first pages match the filters; show more to look further.`;
    else summary.textContent = `Showing ${shown.length} of ${list.total} agents.`;
    more.hidden = list.next === null;
    more.disabled = false;
    body.replaceChildren(
      shown.length === 0
        ? el('p', { class: 'muted' }, 'No agent matches.')
        : table(
            ['State', 'Host', { label: 'Group', class: 'wide-only' }, 'Apps', { label: 'Channel', class: 'wide-only' }, { label: 'Last seen', class: 'wide-only' }],
            shown.map((agent) => agentRow(agent, now)),
            { class: 'agents' },
          ),
    );
  }

  return { node, update };
}
