// The console's pages, in the order the sidebar lists them. Each module exports
// `render(main, ctx)`; it may return a function the shell calls when the page is left (to close
// an event stream). ctx: { api, navigate(hash), status() } — see README.md.
export const PAGES = [
  { id: 'dashboard', title: 'Dashboard', load: () => import('./pages/dashboard.js') },
  { id: 'upgrade', title: 'Upgrade', load: () => import('./pages/upgrade.js') },
  { id: 'app', title: 'Apps', load: () => import('./pages/app.js') },
  { id: 'services', title: 'Services', load: () => import('./pages/services.js') },
  { id: 'logs', title: 'Logs', load: () => import('./pages/logs.js') },
  { id: 'backups', title: 'Backups', load: () => import('./pages/backups.js') },
  { id: 'history', title: 'History', load: () => import('./pages/history.js') },
  { id: 'diagnostics', title: 'Diagnostics', load: () => import('./pages/diagnostics.js') },
  { id: 'settings', title: 'Settings', load: () => import('./pages/settings.js') },
];

export const DEFAULT_PAGE = 'dashboard';

/** `#/<page>/<rest…>` → { id, args }; anything else is the default page. */
export function parseHash(hash) {
  const [id, ...args] = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const page = PAGES.find((p) => p.id === id);
  return page ? { page, args } : { page: PAGES.find((p) => p.id === DEFAULT_PAGE), args: [] };
}

export function pageHash(id, ...args) {
  return `#/${[id, ...args].map(encodeURIComponent).join('/')}`;
}
