// Rollout progress from GET /api/v1/rollouts: per group and app, where each node stands toward the
// version the group asks for (one place per node, as the controller's rollout model counts them),
// the commits the nodes accepted, and on the rollout's own page the timeline of the version.
import { outcomeBadge } from './badges.js';
import { el, panel, table } from './dom.js';
import { dateTime, plural, shortCommit } from './format.js';
import { agentHref, filterHref, rolloutHref } from './routes.js';

/** The model's places in the order a person reads a rollout: done, broken, waiting, apart. */
const PLACES = [
  ['healthy', 'healthy', 'tag-desired', 'Run the version and report it running'],
  ['releaseFailed', 'failed: release', 'tag-bad', "The version failed here by the release's fault (health, a rollback)"],
  ['infrastructureFailed', 'failed: node', 'tag-warn', "Failed by the node's own fault (engine, space, a download): the release is not to blame"],
  ['updating', 'updating', 'tag-info', 'A change to the version is due'],
  ['window', 'waiting for a window', 'tag-info', 'Waiting for a maintenance window'],
  ['rollout', 'not admitted yet', 'tag-info', 'The rollout percent has not admitted these nodes yet'],
  ['offline', 'offline', 'tag-warn', 'Silent past offline-after'],
  ['pinned', 'pinned', 'tag-info', 'Pinned by an operator: not part of the rollout'],
  ['held', 'held', 'tag-warn', 'An operator holds all changes (duck hold)'],
  ['other', 'other', 'tag-info', 'On another commit, stopped, or waiting for approval or a schedule'],
];

/** One tag per place that has nodes. */
export function rolloutPlaces(rollout) {
  const tags = PLACES.filter(([place]) => (rollout.counts[place] ?? 0) > 0).map(([place, label, className, title]) =>
    el('span', { class: `tag ${className}`, data: { place, count: rollout.counts[place] }, title }, `${rollout.counts[place]} ${label}`),
  );
  return el('div', { class: 'rollout-places', 'aria-label': `${rollout.app} in ${rollout.group}: nodes by place` }, tags);
}

/** The short line the overview shows under an app's rollout bar, with a link to the rollout's page. */
export function rolloutSummary(rollout) {
  return el(
    'div',
    { class: 'rollout-progress', data: { group: rollout.group, app: rollout.app, version: rollout.version ?? '' } },
    rolloutPlaces(rollout),
    el('a', { class: 'rollout-link', href: rolloutHref(rollout.group, rollout.app) }, 'rollout and timeline'),
  );
}

function commitsList(commits) {
  if (commits.length === 0) return el('p', { class: 'muted' }, 'No node has accepted a commit.');
  return el(
    'ul',
    { class: 'rollout-commits' },
    commits.map((c) => el('li', { data: { commit: c.commit } }, el('code', { title: c.commit }, shortCommit(c.commit)), ` on ${plural(c.nodes, 'node')}`)),
  );
}

function timelineTable(rollout) {
  const entries = rollout.timeline ?? [];
  if (entries.length === 0) return el('p', { class: 'muted' }, `No change to ${rollout.version ?? 'the version'} reported yet.`);
  const rows = [...entries].reverse().map((e) =>
    el(
      'tr',
      { data: { agent: e.agentId, outcome: e.outcome } },
      el('td', {}, dateTime(e.at)),
      el('td', {}, el('a', { href: agentHref(e.agentId) }, e.agentId)),
      el('td', {}, outcomeBadge(e.outcome)),
      el('td', { class: 'num' }, String(e.applied)),
    ),
  );
  return table(['When', 'Node', 'Outcome', { label: 'Nodes on it', class: 'num', title: 'Nodes that had applied the version by then, each once' }], rows, { class: 'timeline' });
}

/** The page of one rollout: its version, commits, nodes by place and timeline, newest first. */
export function renderRolloutPage(group, app, rollout) {
  const back = el('a', { class: 'back', href: filterHref({ group, app }) }, '← Fleet');
  const title = el('h1', {}, `Rollout of ${app} in ${group}`);
  if (!rollout) return el('div', { class: 'rollout-page' }, back, title, el('p', { class: 'muted' }, `No node of ${group} reports ${app}.`));
  return el(
    'div',
    { class: 'rollout-page', data: { group, app } },
    back,
    title,
    el(
      'p',
      { class: 'rollout-head' },
      'Toward ',
      el('strong', { class: 'rollout-version' }, rollout.version ?? 'no version'),
      rollout.desired !== rollout.version ? ` (the group asks for ${rollout.desired ?? 'none'})` : null,
      `: ${rollout.counts.healthy} of ${plural(rollout.inRollout, 'node')} in the rollout run it healthy.`,
    ),
    el(
      'div',
      { class: 'columns' },
      panel('Nodes by place', { class: 'card panel places-panel' }, rolloutPlaces(rollout)),
      panel('Commits', { class: 'card panel commits-panel' }, commitsList(rollout.commits)),
    ),
    panel('Timeline', { class: 'card panel timeline-panel' }, rollout.timelineTruncated ? el('p', { class: 'muted small' }, 'Read from the first nodes of the group only.') : null, timelineTable(rollout)),
  );
}
