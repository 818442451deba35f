// Services (`#/services`): per app its containers' state and health as Docker reports them, and
// Start / Stop / Restart — per app, and for all apps as the original client had — as operator acts
// through the node's one writer. A stop asks first; the state is read again after every act.
import { el, panel, table } from '../dom.js';
import { pageHash } from '../routes.js';

const ACTS = [
  { kind: 'start', label: 'Start', doing: 'Starting' },
  { kind: 'stop', label: 'Stop', doing: 'Stopping' },
  { kind: 'restart', label: 'Restart', doing: 'Restarting' },
];

/** A modal question with a red button; resolves true when the operator confirms. */
function confirmStop(question, detail, confirmLabel) {
  return new Promise((resolve) => {
    const dialog = el('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title' });
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    const cancel = el('button', { type: 'button', onclick: () => done(false) }, 'Cancel');
    dialog.append(
      el('h2', { id: 'confirm-title' }, question),
      el('p', {}, detail),
      el('div', { class: 'confirm-buttons' }, el('button', { type: 'button', class: 'danger confirm-yes', onclick: () => done(true) }, confirmLabel), cancel),
    );
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    // The safe answer has the focus: Enter does not stop anything.
    cancel.focus();
  });
}

function appState(a) {
  if (a.error !== null) return 'unknown';
  if (a.containers.length === 0) return 'no containers';
  const states = new Set(a.containers.map((c) => c.state));
  return states.size === 1 ? [...states][0] : 'mixed';
}

function containerRows(containers) {
  return containers.map((c) => [
    c.service,
    el('span', { class: 'container-name' }, c.container),
    el('span', { class: 'state', data: { state: c.state } }, c.state === 'exited' ? `exited (${c.exitCode})` : c.state),
    el('span', { class: 'health', data: { health: c.health } }, c.health === 'none' ? 'no check' : c.health),
    el('code', {}, c.image),
  ]);
}

export async function render(main, { api, showMessage }) {
  const list = el('div', { class: 'service-apps' });
  let apps = [];
  let busy = false;

  const setBusy = (value) => {
    busy = value;
    main.querySelectorAll('button[data-act]').forEach((b) => {
      b.disabled = value;
    });
  };

  const act = async (kind, names) => {
    const spec = ACTS.find((a) => a.kind === kind);
    if (names.length === 0) return showMessage('No apps to act on.');
    if (kind === 'stop') {
      const which = names.length === 1 ? names[0] : `all ${names.length} apps`;
      const yes = await confirmStop(`Stop ${which}?`, 'Its containers stop and stay stopped: the agent does not start them again until you start them here or with duck start.', `Stop ${which}`);
      if (!yes) return;
    }
    setBusy(true);
    const said = [];
    let failed = false;
    try {
      for (const app of names) {
        showMessage(`${spec.doing} ${app}…`);
        const result = await api.act({ kind, app });
        said.push(...result.lines);
        if (!result.ok) failed = true;
      }
    } catch (err) {
      failed = true;
      said.push(err.message);
    } finally {
      await refresh().catch((err) => said.push(err.message));
      setBusy(false);
    }
    showMessage(said.join(' · '), failed ? 'error' : 'info');
  };

  // `names` is read at the click: "all" means the apps shown then.
  const actButtons = (names, suffix) =>
    ACTS.map(({ kind, label }) =>
      el('button', { type: 'button', class: kind === 'stop' ? 'danger' : null, data: { act: kind }, disabled: busy, onclick: () => act(kind, names()) }, `${label}${suffix}`),
    );

  const appPanel = (a) =>
    el(
      'section',
      { class: 'panel service-app', data: { app: a.app, state: appState(a) } },
      el(
        'div',
        { class: 'service-head' },
        el('h2', {}, a.app, ' ', el('span', { class: 'version' }, a.version)),
        el('span', { class: 'state app-state', data: { state: appState(a) } }, appState(a)),
        a.stoppedByOperator ? el('span', { class: 'tag' }, 'stopped by the operator') : null,
        a.orphaned ? el('span', { class: 'tag' }, 'not in the group any more') : null,
      ),
      a.error !== null ? el('p', { class: 'service-error' }, `Docker could not be read: ${a.error}`) : null,
      a.containers.length === 0 ? (a.error === null ? el('p', {}, 'No containers.') : null) : table(['Service', 'Container', 'State', 'Health', 'Image'], containerRows(a.containers), { class: 'containers-table' }),
      el('div', { class: 'service-actions' }, actButtons(() => [a.app], ''), el('a', { href: pageHash('logs', a.app), class: 'logs-link' }, 'Logs')),
    );

  const refresh = async () => {
    ({ apps } = await api.services());
    list.replaceChildren(...(apps.length === 0 ? [el('p', {}, 'No apps yet.')] : apps.map(appPanel)));
  };

  await refresh();
  main.append(
    el('h1', {}, 'Services'),
    panel('All apps', { class: 'panel service-all' }, el('div', { class: 'service-actions' }, actButtons(() => apps.map((a) => a.app), ' all'), el('button', { type: 'button', class: 'refresh', onclick: () => refresh().catch((err) => showMessage(err.message, 'error')) }, 'Refresh'))),
    list,
  );
  return undefined;
}
