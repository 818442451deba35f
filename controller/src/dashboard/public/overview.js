// The fleet overview: agents by state, stale and unreachable channels, alerts, recent failures
// (repeats folded), versions and rollout per group and app, outcomes per version, and the agents
// table.
import { createAgentsPanel } from './agents-table.js';
import { announcementsTable } from './announcements.js';
import { outcomeBadge } from './badges.js';
import { el, panel, table } from './dom.js';
import { STATES, STATE_LABELS, ago, dateTime, percent, plural } from './format.js';
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
    el(
      'a',
      {
        class: `tile tile-unreachable-channels${fleet.unreachableChannels > 0 ? ' warn' : ' zero'}`,
        href: filterHref({ state: 'unreachable' }),
        data: { metric: 'unreachable-channels' },
        title: 'Agents whose last fetch of the channel failed: they run what they accepted last and see no new commit',
      },
      el('span', { class: 'tile-count' }, String(fleet.unreachableChannels)),
      el('span', { class: 'tile-label' }, `${fleet.unreachableChannels === 1 ? 'node cannot' : 'nodes cannot'} reach the channel`),
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
        `the release failed on ${percent(a.failures, a.attempts)}% of the nodes that tried it (${a.failures} of ${a.attempts}). `,
        a.infrastructureFailures
          ? el('span', { class: 'infrastructure', data: { infrastructureFailures: a.infrastructureFailures } }, `${plural(a.infrastructureFailures, 'more node')} failed by no fault of the release (engine, space, a kill), not counted. `)
          : null,
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
        { class: 'failure', data: { app: f.app, version: f.to ?? '', count: f.count ?? 1, blame: f.blame ?? '' } },
        el(
          'div',
          { class: 'failure-head' },
          outcomeBadge(f.outcome),
          ' ',
          el('a', { href: agentHref(f.agentId) }, f.hostname),
          el('span', { class: 'muted' }, ` · ${f.group}`),
          f.blame === 'infrastructure' ? el('span', { class: 'tag tag-warn', title: 'The node failed (engine, space, a kill, a download), not the release' }, 'infrastructure') : null,
        ),
        el('div', {}, el('strong', {}, f.app), ` ${f.from ?? 'none'} → ${f.to ?? 'none'}`, el('span', { class: 'muted' }, ` · ${ago(f.at, now)}`)),
        f.reason ? el('div', { class: 'reason' }, f.reason) : null,
        f.count > 1
          ? el(
              'div',
              { class: 'muted small repeats' },
              el('span', { class: 'failure-count' }, `${f.count}×`),
              ` on ${plural(f.agents, 'node')}, first ${dateTime(f.firstAt)}, last ${dateTime(f.at)}`,
            )
          : null,
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
      count(o.failed, 'failed'),
      count(o.deferred, 'deferred'),
      count(o.nodes.releaseFailed, 'release-failed'),
      count(o.nodes.infrastructureFailed, 'infrastructure-failed'),
    ),
  );
  const num = (label, title) => ({ label, class: 'num', title });
  return table(
    [
      'Group',
      'App',
      'Version',
      num('Applied'),
      num('Rolled back'),
      num('Rollback failed'),
      num('Failed', 'Failed with nothing stopped (no space, a download, the engine): the old version kept running'),
      num('Deferred'),
      num('Nodes: release failed', 'Nodes where the release itself failed, each once: what the alert counts'),
      num('Nodes: infrastructure', 'Nodes that failed for their own reasons (engine, space, a kill), each once; not in the alert'),
    ],
    rows,
    { class: 'outcomes' },
  );
}

/** The overview's sections stay in place between refreshes, so the filters keep focus and scroll. */
export function createOverview(onFilter, onMore) {
  const tiles = el('section', { class: 'tiles', 'aria-label': 'Agents by state' });
  const alerts = el('section', { class: 'card panel alerts-panel', role: 'alert', hidden: true }, el('h2', {}, 'Alerts'));
  const alertsBody = el('div');
  alerts.append(alertsBody);
  const versionsBody = el('div', { class: 'groups' });
  const failuresBody = el('div');
  const outcomesBody = el('div');
  const announcementsBody = el('div');
  const agents = createAgentsPanel(onFilter, onMore);
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
    panel('Announcements', { class: 'card panel announcements-panel' }, announcementsBody),
    agents.node,
  );

  function update({ fleet, agents: list, rollouts = [], announcements = [], filters, now }) {
    tiles.replaceChildren(...stateTiles(fleet));
    alerts.hidden = fleet.alerts.length === 0;
    alertsBody.replaceChildren(alertsList(fleet.alerts));
    versionsBody.replaceChildren(...renderVersions(fleet.groups, rollouts));
    failuresBody.replaceChildren(failuresList(fleet.recentFailures, now));
    outcomesBody.replaceChildren(outcomesTable(fleet.outcomes));
    announcementsBody.replaceChildren(announcementsTable(announcements));
    agents.update(fleet, list, filters, now);
  }

  return { node, update };
}
