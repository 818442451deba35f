// The console's shell: the login link's exchange, the sidebar, and the hash routes. A page is a
// module (routes.js) rendered into <main>; leaving it calls what its render returned.
import { createBanner } from './announcements.js';
import * as api from './api.js';
import { el } from './dom.js';
import { PAGES, pageHash, parseHash } from './routes.js';

const byId = (id) => document.getElementById(id);
const main = byId('main');
const nav = byId('nav');
const message = byId('message');

let leave = null;
let generation = 0;

export function showMessage(text, kind = 'info') {
  message.hidden = text === '';
  message.textContent = text;
  message.dataset.kind = kind;
}

function showLoggedOut(why) {
  nav.replaceChildren();
  main.replaceChildren(
    el('section', { class: 'panel login' }, el('h1', {}, 'Log in'), el('p', {}, why), el('p', {}, 'On the node, run ', el('code', {}, 'duck console --open'), ' and open the link it prints. A link works once, for five minutes.')),
  );
  document.title = 'Duck console · log in';
}

function renderNav(currentId) {
  nav.replaceChildren(
    el(
      'ul',
      {},
      PAGES.map((p) => el('li', {}, el('a', { href: pageHash(p.id), 'aria-current': p.id === currentId ? 'page' : null }, p.title))),
    ),
  );
}

// The announcements' banner (announcements.js) above every page, read again on each page shown.
const banner = createBanner(byId('announcements'), { api, showMessage: (text, kind) => showMessage(text, kind) });

const ctx = {
  api,
  navigate: (hash) => {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  status: () => api.status(),
  showMessage,
};

async function route() {
  const mine = ++generation;
  const { page, args } = parseHash(location.hash);
  leave?.();
  leave = null;
  showMessage('');
  renderNav(page.id);
  banner.refresh();
  document.title = `Duck console · ${page.title}`;
  try {
    const module = await page.load();
    if (mine !== generation) return;
    main.replaceChildren();
    const left = await module.render(main, { ...ctx, args });
    if (mine !== generation) return typeof left === 'function' ? left() : undefined;
    leave = typeof left === 'function' ? left : null;
  } catch (err) {
    if (mine !== generation) return;
    if (err instanceof api.LoggedOut) return showLoggedOut(err.message);
    showMessage(err.message, 'error');
  }
}

async function start() {
  if (location.pathname === '/login') {
    const token = location.hash.slice(1);
    // The token leaves the address bar and the history before anything else runs.
    history.replaceState(null, '', '/');
    try {
      await api.login(token);
    } catch (err) {
      return showLoggedOut(err.message);
    }
  }
  window.addEventListener('hashchange', route);
  await route();
}

start().catch((err) => showMessage(err.message, 'error'));
