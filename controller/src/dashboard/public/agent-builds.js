// The duck agent's own builds (DESIGN §4.7): per group, the agent versions that run, the one the
// group asks for and the versions that failed a self-update on its nodes; per node, its agent block
// (what runs, what is asked, the decision and the versions kept off it) and its self-update events.
import { el, table } from './dom.js';
import { ago, dateTime, percent, plural } from './format.js';
import { filterHref } from './routes.js';

const newestFirst = (a, b) => String(b.version).localeCompare(String(a.version), undefined, { numeric: true });

function failedTags(group, failed) {
  return failed.map((f) =>
    el(
      'a',
      {
        class: 'tag tag-bad failed-agent-version',
        href: filterHref({ group, agentFailed: f.version }),
        data: { version: f.version, count: f.agents },
        title: 'A self-update to this agent version failed on these nodes (refused before the switch or switched back); they keep the old build and do not try it again until its release changes',
      },
      `agent ${f.version} failed on ${plural(f.agents, 'node')}`,
    ),
  );
}

function agentVersionRow(group, agent, version, total) {
  const desired = version.version === agent.desired;
  const failed = agent.failed.some((f) => f.version === version.version);
  const share = percent(version.agents, total);
  return el(
    'li',
    { class: `version-row${desired ? ' desired' : ''}`, data: { version: version.version, desired: String(desired) } },
    el('a', { class: 'version-label', href: filterHref({ group, agentVersion: version.version }), title: `Agents of ${group} running duck agent ${version.version}` }, version.version),
    el('div', { class: 'bar', 'aria-hidden': 'true' }, el('div', { class: 'bar-fill', style: { width: `${share}%` } })),
    el('span', { class: 'version-count' }, String(version.agents)),
    el('span', { class: 'version-share muted' }, `${share}%`),
    desired ? el('span', { class: 'tag tag-desired' }, 'desired') : failed ? el('span', { class: 'tag tag-bad', title: 'This version failed a self-update on some nodes' }, 'failed') : null,
  );
}

/** A group's agent versions, in the group's card on the versions panel. */
export function groupAgentVersions(group) {
  const { agent } = group;
  const text =
    agent.desired === null
      ? ['No agent version asked by the group.']
      : [`Agent ${agent.desired} asked: `, el('strong', {}, `${agent.upToDate} of ${group.agents}`), ` run it (${percent(agent.upToDate, group.agents)}%)`];
  const notes = [
    agent.waiting > 0 ? el('span', { class: 'tag tag-info', data: { note: 'agent-waiting', count: agent.waiting }, title: 'Self-updates waiting for a window, a hold, an approval or a pin' }, `${agent.waiting} waiting`) : null,
    ...failedTags(group.group, agent.failed),
  ].filter(Boolean);
  return el(
    'div',
    { class: 'agent-versions', data: { desired: agent.desired ?? '', upToDate: agent.upToDate } },
    el('h4', {}, 'duck agent'),
    el('div', { class: 'rollout-text' }, ...text),
    notes.length > 0 ? el('div', { class: 'rollout-notes' }, notes) : null,
    el('ul', { class: 'versions', 'aria-label': `duck agent versions in ${group.group}` }, [...agent.versions].sort(newestFirst).map((v) => agentVersionRow(group.group, agent, v, group.agents))),
  );
}

/** One node's agent block: what runs, what is asked, the decision, and the versions kept off it. */
export function agentUpdateBlock(agent, now) {
  const update = agent.agentUpdate;
  if (!update) return el('p', { class: 'muted agent-update-none' }, `Agent ${agent.agentVersion} does not report its self-update (an agent from before self-updates).`);
  const rows = [
    ['Running', el('code', {}, update.current)],
    ['Asked', update.desired ?? 'no version asked'],
    ['Decision', [el('span', { class: `decision decision-${update.decision}` }, update.decision), ' ', el('span', { class: 'reason agent-update-reason' }, update.reason)]],
  ];
  return [
    el('dl', { class: 'facts agent-update', data: { decision: update.decision } }, rows.map(([term, value]) => [el('dt', {}, term), el('dd', {}, value)])),
    update.failed.length === 0
      ? null
      : table(
          ['Failed version', 'Step', 'Reason', 'When'],
          update.failed.map((f) =>
            el(
              'tr',
              { class: 'failed-agent-version', data: { version: f.version } },
              el('td', {}, el('span', { class: 'tag tag-bad' }, f.version)),
              el('td', {}, f.step),
              el('td', { class: 'reason' }, f.reason),
              el('td', { title: dateTime(f.at) }, ago(f.at, now)),
            ),
          ),
          { class: 'agent-failures' },
        ),
  ];
}

/** What an agent-update event changed: the agent's own versions. */
export function agentUpdateChange(event) {
  return [el('strong', {}, 'duck agent'), ` ${event.from ?? 'none'} → ${event.to ?? 'none'}`];
}
