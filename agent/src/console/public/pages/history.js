// The node's recent changes and events, newest first, as `duck history` reads them from the state:
// when, which app, the outcome, the versions, and the reason in the agent's words.
import { formatTime } from '../bytes.js';
import { el, panel } from '../dom.js';
import { stackedTable } from '../stacked-table.js';

const LIMIT = 200;
const EMPTY = '—';

/** One row per entry: when, app, outcome, versions, why (the dashboard's recent activity shows the same). */
export function historyRows(entries) {
  return entries.map((h) => [
    el('time', { datetime: h.at }, formatTime(h.at)),
    el('span', { class: 'app-name' }, h.app),
    el('span', { class: 'outcome', data: { outcome: h.outcome } }, h.outcome),
    `${h.from ?? EMPTY} → ${h.to ?? EMPTY}`,
    el('span', { class: 'history-reason' }, h.reason, h.backupId ? el('span', { class: 'history-backup' }, ' (backup ', el('code', {}, h.backupId), ')') : null),
  ]);
}

export async function render(main, ctx) {
  const all = await ctx.api.history({ limit: LIMIT });
  const apps = [...new Set(all.history.map((h) => h.app))].sort();
  const list = el('div', { class: 'history-list' });
  const filter = el('select', { id: 'history-app' }, el('option', { value: '' }, 'All apps'), apps.map((a) => el('option', { value: a }, a)));
  const show = (answer) => {
    const count = answer.total > answer.history.length ? `the last ${answer.history.length} of ${answer.total}` : `${answer.total}`;
    if (answer.history.length === 0) return list.replaceChildren(el('p', {}, 'No history yet: the agent has changed nothing on this node.'));
    list.replaceChildren(
      el('p', { class: 'history-count' }, `${count} entr${answer.total === 1 ? 'y' : 'ies'}, newest first.`),
      stackedTable(['When', 'App', 'Outcome', 'Versions', 'Why'], historyRows(answer.history), { class: 'history-table' }),
    );
  };
  filter.addEventListener('change', async () => {
    try {
      show(await ctx.api.history({ limit: LIMIT, app: filter.value }));
    } catch (err) {
      ctx.showMessage(err.message, 'error');
    }
  });
  main.append(el('h1', {}, 'History'), panel('Changes and events', { class: 'panel history' }, el('div', { class: 'history-filter' }, el('label', { for: 'history-app' }, 'App'), filter), list));
  show(all);
}
