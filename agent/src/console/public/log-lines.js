// The log page's pure parts: how many lines it keeps, which the filter shows, and what Export
// writes. No DOM here, so the unit tests run it as it is served.

/** The most lines the page keeps: a chatty app followed for hours must not grow the tab without end. */
export const MAX_LINES = 5000;

/** How many of the oldest lines go when `added` arrive and `kept` are held, to stay within `max`. */
export function overflow(kept, added, max = MAX_LINES) {
  return Math.max(0, kept + added - max);
}

/** The filter as the operator typed it: a case-insensitive substring; empty shows every line. */
export function matcher(filter) {
  const needle = filter.trim().toLowerCase();
  return needle === '' ? () => true : (line) => line.toLowerCase().includes(needle);
}

/** The lines the page shows under `filter`, one a line, as the exported file holds them. */
export function exportText(lines, filter) {
  const shown = lines.filter(matcher(filter));
  return shown.length === 0 ? '' : `${shown.join('\n')}\n`;
}

/** `<app>-<UTC time>.log`, with nothing a file system refuses. */
export function exportName(app, when) {
  const stamp = when.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  return `${app.replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}.log`;
}
