// The page's wiring: sign in and out, the hash routes, and the refresh loop (every 5 s while the tab
// is visible; a newer load supersedes one still in flight).
import { renderAgentPage, renderMissingAgent } from './agent-page.js';
import * as api from './api.js';
import { timeOfDay } from './format.js';
import { createOverview } from './overview.js';
import { renderRolloutPage } from './rollouts.js';
import { filterHref, parseRoute } from './routes.js';

const REFRESH_MS = 5000;

const byId = (id) => document.getElementById(id);
const view = byId('view');
const login = byId('login');
const loginForm = byId('login-form');
const tokenInput = byId('token');
const loginError = byId('login-error');
const logoutButton = byId('logout');
const updated = byId('updated');

let signedIn = false;
let overview = null; // kept while the overview shows, so the filter form keeps its focus
let shownView = null;
let timer = null;
let generation = 0;
let lastUpdated = null;
// Pages of agents the table shows (GET /api/v1/agents is paged): one more per "Show more", back to
// one when the filters change.
let agentPages = 1;
let pagedFilters = '';

function schedule() {
  clearTimeout(timer);
  if (signedIn && !document.hidden) timer = setTimeout(load, REFRESH_MS);
}

function showLogin() {
  signedIn = false;
  generation += 1; // whatever is in flight belongs to the old session
  clearTimeout(timer);
  overview = null;
  shownView = null;
  lastUpdated = null;
  view.replaceChildren();
  updated.textContent = '';
  logoutButton.hidden = true;
  login.hidden = false;
  document.title = 'Duck · sign in';
  tokenInput.focus();
}

function show(route, node, title) {
  if (shownView !== route.view) window.scrollTo(0, 0);
  shownView = route.view;
  if (node) view.replaceChildren(node);
  document.title = title;
}

async function renderRoute(route, isCurrent) {
  if (route.view === 'agent') {
    let node;
    let title = 'Duck · no such agent';
    try {
      const detail = await api.agent(route.agentId);
      node = renderAgentPage(detail, Date.now());
      title = `Duck · ${detail.agent.hostname}`;
    } catch (err) {
      if (!(err instanceof api.NotFound)) throw err;
      node = renderMissingAgent(route.agentId);
    }
    if (!isCurrent()) return;
    overview = null;
    show(route, node, title);
    return;
  }
  if (route.view === 'rollout') {
    const { rollouts } = await api.rollouts({ group: route.group, app: route.app });
    if (!isCurrent()) return;
    overview = null;
    show(route, renderRolloutPage(route.group, route.app, rollouts[0]), `Duck · rollout of ${route.app} in ${route.group}`);
    return;
  }
  const filterKey = JSON.stringify(route.filters);
  if (filterKey !== pagedFilters) [agentPages, pagedFilters] = [1, filterKey];
  const [fleet, agents, { rollouts }, { announcements }] = await Promise.all([api.fleet(), api.agents(route.filters, agentPages), api.rollouts(), api.announcements()]);
  if (!isCurrent()) return;
  const fresh = overview === null;
  if (fresh) {
    const showMore = () => {
      agentPages += 1;
      load();
    };
    overview = createOverview((filters) => (location.hash = filterHref(filters)), showMore);
  }
  overview.update({ fleet, agents, rollouts, announcements, filters: route.filters, now: Date.now() });
  show(route, fresh ? overview.node : null, 'Duck · fleet');
}

async function load() {
  const mine = ++generation;
  const isCurrent = () => mine === generation;
  clearTimeout(timer);
  try {
    await renderRoute(parseRoute(location.hash), isCurrent);
    if (!isCurrent()) return;
    signedIn = true;
    login.hidden = true;
    logoutButton.hidden = false;
    lastUpdated = new Date();
    updated.textContent = `Updated ${timeOfDay(lastUpdated)}`;
    updated.dataset.at = lastUpdated.toISOString();
    updated.className = 'updated';
  } catch (err) {
    if (!isCurrent()) return;
    if (err instanceof api.SignedOut) {
      showLogin();
      return;
    }
    const since = lastUpdated ? `; showing data from ${timeOfDay(lastUpdated)}` : '';
    updated.textContent = `Could not refresh: ${err.message}${since}`;
    updated.className = 'updated failed';
  }
  schedule();
}

loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  loginError.textContent = '';
  if (tokenInput.value.trim() === '') {
    loginError.textContent = 'Enter the admin token.';
    return;
  }
  try {
    if ((await api.signIn(tokenInput.value)) === 'refused') {
      loginError.textContent = 'That is not the admin token.';
      tokenInput.select();
      return;
    }
  } catch (err) {
    loginError.textContent = `Could not reach the controller: ${err.message}`;
    return;
  }
  tokenInput.value = '';
  await load();
});

logoutButton.addEventListener('click', async () => {
  await api.signOut().catch(() => undefined);
  showLogin();
});

window.addEventListener('hashchange', () => {
  if (signedIn) load();
});

document.addEventListener('visibilitychange', () => {
  if (document.hidden) clearTimeout(timer);
  else if (signedIn) load();
});

load();
