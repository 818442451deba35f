// Backups, per app: id, time, size and the version whose data each holds, as `duck backups` lists
// them; *Create backup* and *Restore from this backup* are operator acts. A restore waits behind a
// red confirmation where the operator types the app's name, as `duck restore --confirm <app>` asks:
// the name is what the restore overwrites, and one cannot paste it from the row by mistake the way
// a backup id is copied. The server does not rely on the page: the act checks the backup itself.
import { formatBytes, formatTime } from '../bytes.js';
import { el, panel } from '../dom.js';
import { stackedTable } from '../stacked-table.js';

export async function render(main, ctx) {
  const body = el('div', { class: 'backups' });
  main.append(el('h1', {}, 'Backups'), body);
  const reload = async () => {
    const view = await ctx.api.backups();
    body.replaceChildren(...storeFacts(view), ...view.apps.map((a) => appPanel(a, ctx, reload)));
  };
  await reload();
}

function storeFacts(view) {
  const facts = [el('p', { class: 'backups-dir' }, 'Kept in ', el('code', {}, view.dir), '.')];
  if (view.apps.length === 0) facts.push(el('p', {}, 'No app is installed yet, and no backup is kept.'));
  if (view.partial.count > 0) {
    facts.push(el('p', { class: 'backups-partial' }, `${view.partial.count} unfinished backup${view.partial.count === 1 ? '' : 's'} (${formatBytes(view.partial.bytes)}) left by a stopped agent; removed when the agent next starts.`));
  }
  if (view.broken.length > 0) {
    facts.push(panel('Unreadable backups', { class: 'panel backups-broken' }, el('ul', {}, view.broken.map((b) => el('li', {}, el('code', {}, b.id), `: ${b.problem}`)))));
  }
  return facts;
}

function appPanel({ app, backups }, ctx, reload) {
  const result = el('div', { class: 'act-result', role: 'status', 'aria-live': 'polite' });
  const confirmArea = el('div', { class: 'restore-area' });
  const create = el('button', { class: 'primary', type: 'button', data: { app } }, `Create backup of ${app}`);
  create.addEventListener('click', () => runAct(ctx, { kind: 'backup', app }, app, create, reload));
  const rows = backups.map((b) => {
    const restore = el('button', { type: 'button', class: 'restore-open', data: { backup: b.id }, 'aria-label': `Restore ${app} from backup ${b.id}` }, 'Restore from this backup');
    restore.addEventListener('click', () => {
      confirmArea.replaceChildren(restoreConfirm(app, b, ctx, reload, () => confirmArea.replaceChildren()));
      confirmArea.querySelector('input').focus();
    });
    return [el('code', { class: 'backup-id' }, b.id), formatTime(b.createdAt), el('span', { class: 'backup-size' }, formatBytes(b.bytes)), el('span', { class: 'backup-version' }, b.version), b.reason, restore];
  });
  return panel(
    app,
    { class: 'panel backup-app', data: { app } },
    el('div', { class: 'backup-actions' }, create),
    backups.length === 0 ? el('p', {}, `No backup of ${app} yet.`) : stackedTable(['ID', 'Taken', 'Size', 'Version', 'Why', ''], rows, { class: 'backups-table' }),
    confirmArea,
    result,
  );
}

/** The red confirmation: the restore button is enabled only while the typed name is the app's. */
function restoreConfirm(app, backup, ctx, reload, close) {
  const inputId = `confirm-${backup.id}`;
  const input = el('input', { id: inputId, type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'restore-name' });
  const go = el('button', { type: 'button', class: 'danger restore-go', disabled: true }, `Restore ${app} from ${backup.id}`);
  const cancel = el('button', { type: 'button', class: 'restore-cancel' }, 'Cancel');
  input.addEventListener('input', () => {
    go.disabled = input.value !== app;
  });
  cancel.addEventListener('click', close);
  go.addEventListener('click', async () => {
    if (input.value !== app) return;
    input.disabled = true;
    cancel.disabled = true;
    await runAct(ctx, { kind: 'restore', backupId: backup.id }, app, go, reload);
  });
  const box = el(
    'div',
    { class: 'restore-confirm', role: 'group', 'aria-label': `Restore ${app}` },
    el('h3', {}, `Restore ${app} from ${backup.id}?`),
    el('p', {}, `${app} goes back to ${backup.version} with its data as it was at ${formatTime(backup.createdAt)}. The data as it is now is backed up first; an older version stays pinned until you unpin it.`),
    el('label', { for: inputId }, `Type the app name (${app}) to confirm`),
    input,
    el('div', { class: 'restore-buttons' }, go, cancel),
  );
  return box;
}

/** One act through the node's writer; its lines (or its error) are shown, then the list read again. */
async function runAct(ctx, request, app, button, reload) {
  button.disabled = true;
  button.textContent = request.kind === 'restore' ? 'Restoring…' : 'Backing up…';
  let outcome;
  try {
    const answer = await ctx.api.act(request);
    outcome = el('div', { class: 'act-ok', data: { kind: request.kind } }, el('pre', {}, answer.lines.join('\n') || `${request.kind}: done`));
  } catch (err) {
    outcome = el('div', { class: 'act-error', data: { kind: request.kind } }, el('pre', {}, err.message));
  }
  try {
    await reload();
  } catch (err) {
    ctx.showMessage(err.message, 'error');
    return;
  }
  // The panels were drawn again: the outcome goes into the app's new one.
  const fresh = [...document.querySelectorAll('.backup-app')].find((p) => p.dataset.app === app);
  fresh?.querySelector('.act-result').replaceChildren(outcome);
}
