// Live logs (`#/logs/<app>`): the app's container logs as they come, from the last 200 lines per
// container. Follow keeps the newest line in view; the filter hides lines without its text; Export
// saves the lines shown as a .log file. Each line is a Text node: a log line is never markup.
import { el, panel } from '../dom.js';
import { pageHash } from '../routes.js';
import { MAX_LINES, exportName, exportText, matcher, overflow } from '../log-lines.js';

const TAIL = 200;

function appLinks(apps) {
  return el('ul', { class: 'log-apps' }, apps.map((a) => el('li', {}, el('a', { href: pageHash('logs', a.app) }, a.app))));
}

export async function render(main, { api, args, showMessage }) {
  const { apps } = await api.services();
  const app = args[0];
  if (app === undefined || !apps.some((a) => a.app === app)) {
    main.append(
      el('h1', {}, 'Logs'),
      panel('Apps', { class: 'panel log-pick' }, app === undefined ? null : el('p', { class: 'log-missing' }, `No app "${app}" runs on this node.`), apps.length === 0 ? el('p', {}, 'No apps yet.') : appLinks(apps)),
    );
    return undefined;
  }

  const lines = [];
  let filter = '';
  let shows = matcher(filter);
  const view = el('div', { class: 'log-view', role: 'log', tabindex: '0', 'aria-label': `Logs of ${app}`, 'aria-live': 'off' });
  const follow = el('input', { type: 'checkbox', id: 'log-follow', checked: true });
  const filterBox = el('input', { type: 'search', id: 'log-filter', placeholder: 'text in the line', autocomplete: 'off' });
  const counts = el('span', { class: 'log-counts' });
  const state = el('span', { class: 'log-state', data: { state: 'following' } }, 'Following');
  const exportButton = el('button', { type: 'button', class: 'log-export' }, 'Export');

  const showCounts = () => {
    const shown = view.querySelectorAll('.log-line:not([hidden])').length;
    counts.textContent = filter.trim() === '' ? `${lines.length} lines` : `${shown} of ${lines.length} lines`;
  };
  const keepInView = () => {
    if (follow.checked) view.scrollTop = view.scrollHeight;
  };

  const onLines = (added) => {
    const drop = overflow(lines.length, added.length);
    if (drop > 0) {
      lines.splice(0, drop);
      for (let i = 0; i < drop && view.firstChild; i++) view.firstChild.remove();
    }
    const fresh = added.slice(Math.max(0, added.length - MAX_LINES));
    lines.push(...fresh);
    view.append(...fresh.map((line) => el('div', { class: 'log-line', hidden: !shows(line) }, line)));
    showCounts();
    keepInView();
  };
  const onEnd = (reason) => {
    state.dataset.state = 'ended';
    state.textContent = `Ended: ${reason}`;
  };

  filterBox.addEventListener('input', () => {
    filter = filterBox.value;
    shows = matcher(filter);
    view.querySelectorAll('.log-line').forEach((node, i) => {
      node.hidden = !shows(lines[i]);
    });
    showCounts();
    keepInView();
  });
  follow.addEventListener('change', keepInView);
  exportButton.addEventListener('click', () => {
    const blob = new Blob([exportText(lines, filter)], { type: 'text/plain;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const link = el('a', { href: url, download: exportName(app, new Date()), class: 'log-download' });
    document.body.append(link);
    link.click();
    link.remove();
    // After the click has handed the file to the browser's download.
    setTimeout(() => URL.revokeObjectURL(url), 0);
    showMessage(`Exported ${exportText(lines, filter).split('\n').length - 1} lines.`);
  });

  main.append(
    el('h1', {}, `Logs · ${app}`),
    el(
      'div',
      { class: 'log-tools' },
      el('label', { for: 'log-filter' }, 'Filter'),
      filterBox,
      el('label', { class: 'log-follow' }, follow, ' Follow'),
      exportButton,
      el('a', { href: pageHash('services') }, 'Services'),
    ),
    el('p', { class: 'log-status' }, state, ' · ', counts),
    view,
  );
  showCounts();
  return api.logStream(app, TAIL, { onLines, onEnd });
}
