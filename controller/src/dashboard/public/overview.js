// The fleet overview: agents by state, stale channels, alerts, recent failures, versions and
// rollout per group and app, outcomes per version, and the agents table.
import { createAgentsPanel } from './agents-table.js';
import { outcomeBadge } from './badges.js';
import { el, panel, table } from './dom.js';
import { STATES, STATE_LABELS, ago, percent, plural } from './format.js';
import { agentHref, filterHref } from './routes.js';
import { renderVersions } from './versions.js';

function stateTiles(fleet) {
  const tiles = STATES.map((state) => {
    const count = fleet.agents.byState[state] ?? 0;
    return el(
      'a',
      {
        class: `tile state-${state}${count === 0 ? ' zero' : ''}`,
        href: filterHref({ state }),
        data: { state },
        'aria-label': `${STATE_LABELS[state]}: ${plural(count, 'agent')}`,
      },
      el('span', { class: 'tile-count' }, String(count)),
      el('span', { class: 'tile-label' }, STATE_LABELS[state]),
    );
  });
  return [
    el('div', { class: 'tile tile-total', data: { metric: 'total' } }, el('span', { class: 'tile-count' }, String(fleet.agents.total)), el('span', { class: 'tile-label' }, 'Agents')),
    ...tiles,
    el(
      'div',
      {
        class: `tile tile-stale-channels${fleet.staleChannels > 0 ? ' warn' : ' zero'}`,
        data: { metric: 'stale-channels' },
        title: 'Agents whose accepted commit is older than the channel allows, whatever their state',
      },
      el('span', { class: 'tile-count' }, String(fleet.staleChannels)),
      el('span', { class: 'tile-label' }, 'Stale channels'),
    ),
  ];
}

function alertsList(alerts) {
  return el(
    'ul',
    { class: 'alerts' },
    alerts.map((a) =>
      el(
        'li',
        { class: 'alert', data: { group: a.group, app: a.app, version: a.version } },
        el('strong', {}, `${a.app} ${a.version} in ${a.group}: `),
        `${percent(a.failures, a.attempts)}% of changes failed (${a.failures} of ${a.attempts}). `,
        'Pause the rollout (lower its percent) or revert. ',
        el('span', { class: 'muted' }, ago(a.at)),
      ),
    ),
  );
}

function failuresList(failures, now) {
  if (failures.length === 0) return el('p', { class: 'muted' }, 'No failures reported.');
  return el(
    'ul',
    { class: 'failures' },
    failures.map((f) =>
      el(
        'li',
        { class: 'failure' },
        el('div', { class: 'failure-head' }, outcomeBadge(f.outcome), ' ', el('a', { href: agentHref(f.agentId) }, f.hostname), el('span', { class: 'muted' }, ` · ${f.group}`)),
        el('div', {}, el('strong', {}, f.app), ` ${f.from ?? 'none'} → ${f.to ?? 'none'}`, el('span', { class: 'muted' }, ` · ${ago(f.at, now)}`)),
        f.reason ? el('div', { class: 'reason' }, f.reason) : null,
      ),
    ),
  );
}

function count(n, kind) {
  return el('td', { class: `num${n > 0 ? ` count-${kind}` : ' muted'}` }, String(n));
}

function outcomesTable(outcomes) {
  if (outcomes.length === 0) return el('p', { class: 'muted' }, 'No changes reported yet.');
  const rows = outcomes.map((o) =>
    el(
      'tr',
      { data: { group: o.group, app: o.app, version: o.version } },
      el('td', {}, o.group),
      el('td', {}, o.app),
      el('td', {}, o.version),
      count(o.applied, 'applied'),
      count(o.rolledBack, 'rolled-back'),
      count(o.rollbackFailed, 'rollback-failed'),
      count(o.deferred, 'deferred'),
    ),
  );
  const num = (label) => ({ label, class: 'num' });
  return table(['Group', 'App', 'Version', num('Applied'), num('Rolled back'), num('Rollback failed'), num('Deferred')], rows, { class: 'outcomes' });
}

/** The overview's sections stay in place between refreshes, so the filters keep focus and scroll. */
export function createOverview(onFilter) {
  const tiles = el('section', { class: 'tiles', 'aria-label': 'Agents by state' });
  const alerts = el('section', { class: 'card panel alerts-panel', role: 'alert', hidden: true }, el('h2', {}, 'Alerts'));
  const alertsBody = el('div');
  alerts.append(alertsBody);
  const versionsBody = el('div', { class: 'groups' });
  const failuresBody = el('div');
  const outcomesBody = el('div');
  const agents = createAgentsPanel(onFilter);
  const node = el(
    'div',
    { class: 'overview' },
    tiles,
    alerts,
    el(
      'div',
      { class: 'columns' },
      panel('Versions and rollout', { class: 'card panel versions-panel' }, versionsBody),
      panel('Recent failures', { class: 'card panel failures-panel' }, failuresBody),
    ),
    panel('Outcomes per version', { class: 'card panel outcomes-panel' }, outcomesBody),
    agents.node,
  );

  function update({ fleet, agents: list, filters, now }) {
    tiles.replaceChildren(...stateTiles(fleet));
    alerts.hidden = fleet.alerts.length === 0;
    alertsBody.replaceChildren(alertsList(fleet.alerts));
    versionsBody.replaceChildren(...renderVersions(fleet.groups));
    failuresBody.replaceChildren(failuresList(fleet.recentFailures, now));
    outcomesBody.replaceChildren(outcomesTable(fleet.outcomes));
    agents.update(fleet, list, filters, now);
  }

  return { node, update };
}
