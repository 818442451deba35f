// Building DOM nodes without markup strings: every piece of text becomes a Text node, so a hostname
// or a reason an agent sent can never turn into elements or script.

/**
 * el('a', { class: 'link', href: '#/', data: { state: 'ok' } }, 'text', otherNode)
 * Props: `class`, `data` (dataset), `style` (an object set through the CSSOM), any other key an
 * attribute. A null or false child or prop is left out.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'data') Object.assign(node.dataset, value);
    else if (key === 'style') Object.assign(node.style, value);
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

/** A section with a heading, as every panel of the dashboard is. */
export function panel(title, props, ...children) {
  return el('section', { class: 'card panel', ...props }, el('h2', {}, title), ...children);
}

/** A table from column headings and rows of cells (strings or nodes). */
export function table(headings, rows, props = {}) {
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      props,
      el('thead', {}, el('tr', {}, headings.map((h) => el('th', { scope: 'col', class: h.class, title: h.title }, h.label ?? h)))),
      el('tbody', {}, rows),
    ),
  );
}
