// The banner above every page (DESIGN §4.10): the channel's notices in force on this node that its
// operator has not acknowledged. Info and warning notices can be dismissed for this browser
// session; a critical one stays on every page until someone presses "Acknowledge", which the
// node's one writer records (as `duck announcements ack` does) and reports to the controller.
import { el } from './dom.js';

const DISMISSED = 'duck.console.dismissed-notices';

// What the agent's Markdown renderer (markdown-it, raw HTML off, links http/https/mailto only) can
// make. The body is parsed in an inert document and anything else is dropped as text: a second
// guard behind the agent's, and behind the CSP.
const ALLOWED_TAGS = new Set(['P', 'EM', 'STRONG', 'CODE', 'PRE', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'HR', 'BR', 'A']);
const LINK = /^(?:https?:|mailto:)/i;

function dismissed() {
  try {
    return new Set(JSON.parse(sessionStorage.getItem(DISMISSED) ?? '[]'));
  } catch {
    return new Set();
  }
}

function dismiss(id) {
  const ids = dismissed();
  ids.add(id);
  sessionStorage.setItem(DISMISSED, JSON.stringify([...ids]));
}

/** The body's nodes, copied element by element from the inert parse: only allowed tags and safe links survive. */
function bodyNodes(html) {
  const parsed = new DOMParser().parseFromString(html, 'text/html').body;
  const copy = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.textContent);
    if (node.nodeType !== Node.ELEMENT_NODE) return null;
    const children = [...node.childNodes].map(copy);
    if (!ALLOWED_TAGS.has(node.tagName)) return document.createTextNode(node.textContent);
    const href = node.tagName === 'A' ? node.getAttribute('href') ?? '' : null;
    if (href !== null && !LINK.test(href)) return el('span', {}, children);
    return el(node.tagName.toLowerCase(), href !== null ? { href, rel: 'noopener noreferrer', target: '_blank' } : {}, children);
  };
  return [...parsed.childNodes].map(copy);
}

/**
 * The banner in `area`: `refresh()` reads the notices again (the shell calls it on every page).
 * `showMessage(text, kind)` tells the operator when an acknowledgement fails.
 */
export function createBanner(area, { api, showMessage }) {
  let notices = [];

  function render(focusAfter) {
    const hidden = dismissed();
    const shown = notices.filter((n) => n.acknowledgedAt === null && (n.severity === 'critical' || !hidden.has(n.id)));
    area.replaceChildren(...shown.map(noticeNode));
    area.hidden = shown.length === 0;
    // A button that disappears takes the focus with it: hand it to the next notice, else the page.
    if (focusAfter) (area.querySelector('button') ?? document.getElementById('main'))?.focus();
  }

  function noticeNode(n) {
    const titleId = `notice-${n.id}`;
    const acknowledge = async (event) => {
      event.currentTarget.disabled = true;
      try {
        const { acknowledged } = await api.acknowledge(n.id);
        notices = notices.map((m) => (m.id === n.id ? { ...m, acknowledgedAt: acknowledged.at } : m));
        render(true);
      } catch (err) {
        event.currentTarget.disabled = false;
        showMessage(err.message, 'error');
      }
    };
    const buttons = [el('button', { type: 'button', class: n.severity === 'critical' ? 'primary' : null, onclick: acknowledge, data: { act: 'acknowledge' } }, 'Acknowledge')];
    if (n.severity !== 'critical') {
      const onDismiss = () => {
        dismiss(n.id);
        render(true);
      };
      buttons.push(el('button', { type: 'button', onclick: onDismiss, data: { act: 'dismiss' }, title: 'Hide it until this browser session ends' }, 'Dismiss'));
    }
    return el(
      'section',
      { class: 'notice', role: n.severity === 'critical' ? 'alert' : 'region', 'aria-labelledby': titleId, data: { notice: n.id, severity: n.severity } },
      el('h2', { id: titleId, class: 'notice-title' }, el('span', { class: 'notice-severity' }, n.severity), ' ', n.title),
      el('div', { class: 'notice-body' }, bodyNodes(n.bodyHtml)),
      el('p', { class: 'notice-actions' }, buttons, el('span', { class: 'notice-expires' }, `until ${n.expires}`)),
    );
  }

  async function refresh() {
    try {
      ({ announcements: notices } = await api.announcements());
      render(false);
    } catch (err) {
      // Logged out: the shell says how to log in; nothing to show here until then.
      if (err instanceof api.LoggedOut) {
        notices = [];
        render(false);
      } else showMessage(err.message, 'error');
    }
  }

  return { refresh };
}
