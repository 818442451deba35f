// Versions per group and app as horizontal bars (each version's share of the group's agents, the
// desired version marked), the staged rollout's progress towards the version the group asks for
// (pinned agents apart), and what holds agents back: pins, operator stops, window waits, back-offs;
// then the duck agent's own versions in the group.
import { groupAgentVersions } from './agent-builds.js';
import { el } from './dom.js';
import { percent, plural } from './format.js';
import { filterHref } from './routes.js';
import { rolloutSummary } from './rollouts.js';

const newestFirst = (a, b) => String(b.version).localeCompare(String(a.version), undefined, { numeric: true });

function rolloutBar(app) {
  const share = percent(app.upToDate, app.total);
  return el(
    'div',
    { class: 'rollout', data: { rollout: `${app.upToDate}/${app.total}` } },
    el(
      'div',
      { class: 'rollout-text' },
      `Rollout of ${app.desired ?? 'no version'}: `,
      el('strong', {}, `${app.upToDate} of ${app.total}`),
      ` up to date (${share}%)`,
      app.pinned > 0 ? `; ${plural(app.pinned, 'pinned agent')} apart` : null,
    ),
    el(
      'div',
      {
        class: 'progress',
        role: 'progressbar',
        'aria-label': `${app.app}: agents up to date`,
        'aria-valuemin': 0,
        'aria-valuemax': app.total,
        'aria-valuenow': app.upToDate,
      },
      el('div', { class: 'progress-fill', style: { width: `${share}%` } }),
    ),
  );
}

/** Counts of agents the rollout does not move by itself, each with what it means. */
function rolloutNotes(app) {
  const notes = [
    ['pinned', app.pinned, 'pinned', 'tag-info', 'Pinned by an operator: not part of the rollout'],
    ['stopped', app.stopped, 'stopped', 'tag-warn', 'Stopped by an operator (duck stop)'],
    ['window', app.windowWaits, 'waiting for a window', 'tag-info', 'Waiting for a maintenance window'],
    ['backoff', app.backingOff, 'backing off', 'tag-bad', 'Failed with nothing stopped (no space, a download, the engine); tried again later'],
  ].filter(([, n]) => n > 0);
  if (notes.length === 0) return null;
  return el(
    'div',
    { class: 'rollout-notes' },
    notes.map(([kind, n, label, className, title]) => el('span', { class: `tag ${className}`, data: { note: kind, count: n }, title }, `${n} ${label}`)),
  );
}

function versionRow(group, app, version, total) {
  const desired = version.version === app.desired;
  const share = percent(version.agents, total);
  const name = version.version ?? 'not installed';
  return el(
    'li',
    { class: `version-row${desired ? ' desired' : ''}`, data: { version: name, desired: String(desired) } },
    el(
      'a',
      { class: 'version-label', href: filterHref({ group, app: app.app, version: version.version ?? '' }), title: `Agents of ${group} running ${app.app} ${name}` },
      name,
    ),
    el('div', { class: 'bar', 'aria-hidden': 'true' }, el('div', { class: 'bar-fill', style: { width: `${share}%` } })),
    el('span', { class: 'version-count' }, String(version.agents)),
    el('span', { class: 'version-share muted' }, `${share}%`),
    desired ? el('span', { class: 'tag tag-desired' }, 'desired') : null,
  );
}

function appBlock(group, app, rollout) {
  return el(
    'div',
    { class: 'app-versions', data: { app: app.app } },
    el('h4', {}, app.app),
    rolloutBar(app),
    rolloutNotes(app),
    rollout ? rolloutSummary(rollout) : null,
    el('ul', { class: 'versions', 'aria-label': `${app.app} versions in ${group}` }, [...app.versions].sort(newestFirst).map((v) => versionRow(group, app, v, app.total + app.pinned))),
  );
}

/** One card per group: its apps, their versions and their rollout (nodes by place from `rollouts`). */
export function renderVersions(groups, rollouts = []) {
  const rolloutOf = (group, app) => rollouts.find((r) => r.group === group && r.app === app);
  if (groups.length === 0) return [el('p', { class: 'muted' }, 'No agent has reported yet.')];
  return groups.map((group) =>
    el(
      'article',
      { class: 'group', data: { group: group.group } },
      el(
        'h3',
        {},
        el('a', { href: filterHref({ group: group.group }) }, group.group),
        el('span', { class: 'muted' }, ` · ${plural(group.agents, 'agent')}`),
        group.held > 0 ? el('span', { class: 'tag tag-warn', data: { note: 'held', count: group.held }, title: 'Agents where an operator holds all changes (duck hold)' }, `${group.held} held`) : null,
      ),
      group.apps.length === 0 ? el('p', { class: 'muted' }, 'No apps.') : group.apps.map((app) => appBlock(group.group, app, rolloutOf(group.group, app.app))),
      // A controller from before agent versions answers without them (a page cached across an upgrade).
      group.agent ? groupAgentVersions(group) : null,
    ),
  );
}
