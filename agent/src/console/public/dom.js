// Building DOM nodes without markup strings: every piece of text becomes a Text node, so an app
// name, a reason or a log line from the node can never turn into elements or script.

/**
 * el('a', { class: 'link', href: '#/', data: { state: 'ok' }, onclick: fn }, 'text', otherNode)
 * Props: `class`, `data` (dataset), `on<event>` (a listener), any other key an attribute. A null
 * or false child or prop is left out.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'data') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** A section with a heading, as every panel of the console is. */
export function panel(title, props, ...children) {
  return el('section', { class: 'panel', ...props }, el('h2', {}, title), ...children);
}

/** A table from column headings and rows of cells (strings or nodes). */
export function table(headings, rows, props = {}) {
  return el(
    'div',
    { class: 'table-wrap' },
    el('table', props, el('thead', {}, el('tr', {}, headings.map((h) => el('th', { scope: 'col' }, h)))), el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c) => el('td', {}, c)))))),
  );
}
