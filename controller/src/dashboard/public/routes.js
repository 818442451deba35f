// The page's addresses: hash routes, so the controller serves one page and a link to an agent or to
// a filtered overview can be bookmarked and shared.
//   #/                              the fleet overview
//   #/?group=&app=&version=&state=  the overview with the agents table filtered
//   #/agents/<agentId>              one agent

export const FILTER_KEYS = ['group', 'app', 'version', 'state'];

/** { view: 'overview', filters } or { view: 'agent', agentId }. */
export function parseRoute(hash) {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const agent = /^\/agents\/(.+)$/.exec(path ?? '');
  if (agent) return { view: 'agent', agentId: decodeURIComponent(agent[1]) };
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
