// A table whose rows become labelled cards on a narrow screen (style.css: `.stacked`): a backup id
// or a reason is too long for a 390 px column.
import { el } from './dom.js';

export function stackedTable(headings, rows, props = {}) {
  const cls = ['stacked', props.class].filter(Boolean).join(' ');
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      { ...props, class: cls },
      el('thead', {}, el('tr', {}, headings.map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c, i) => el('td', { data: { label: headings[i] } }, el('span', {}, c)))))),
    ),
  );
}
