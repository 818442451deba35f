// The page's addresses: hash routes, so the controller serves one page and a link to an agent or to
// a filtered overview can be bookmarked and shared.
//   #/                              the fleet overview
//   #/?group=&app=&version=&state=&agentVersion=&agentFailed=
//                                   the overview with the agents table filtered
//   #/agents/<agentId>              one agent
//   #/rollouts/<group>/<app>        one rollout: nodes by place, commits, timeline

export const FILTER_KEYS = ['group', 'app', 'version', 'state', 'agentVersion', 'agentFailed'];

/** { view: 'overview', filters }, { view: 'agent', agentId } or { view: 'rollout', group, app }. */
export function parseRoute(hash) {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const agent = /^\/agents\/(.+)$/.exec(path ?? '');
  if (agent) return { view: 'agent', agentId: decodeURIComponent(agent[1]) };
  const rollout = /^\/rollouts\/([^/]+)\/([^/]+)$/.exec(path ?? '');
  if (rollout) return { view: 'rollout', group: decodeURIComponent(rollout[1]), app: decodeURIComponent(rollout[2]) };
  const params = new URLSearchParams(query);
  const filters = {};
  for (const key of FILTER_KEYS) filters[key] = params.get(key) ?? '';
  return { view: 'overview', filters };
}

export function filterHref(filters) {
  const query = new URLSearchParams();
  for (const key of FILTER_KEYS) if (filters[key]) query.set(key, filters[key]);
  const qs = query.toString();
  return qs ? `#/?${qs}` : '#/';
}

export function agentHref(agentId) {
  return `#/agents/${encodeURIComponent(agentId)}`;
}

export function rolloutHref(group, app) {
  return `#/rollouts/${encodeURIComponent(group)}/${encodeURIComponent(app)}`;
}
