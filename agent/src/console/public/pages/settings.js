// Settings (`#/settings`): what the overlay may change — maintenance windows, approval, compose
// overrides — edited through POST /api/overlay with the operator's comments kept; what agent.yaml
// says (channel, trust keys, poll interval, backups) shown read-only; and Check now.
import { el, panel } from '../dom.js';
import { formatInZone } from '../node-time.js';
import { field, runner } from '../overlay-forms.js';

const EMPTY = '—';

/** "mon-fri, sat" → ["mon-fri", "sat"]: the overlay's days, checked by its schema on save. */
const daysOf = (text) =>
  text
    .split(/[\s,]+/)
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);

function windowRow(w, index, remove) {
  const days = el('input', { type: 'text', name: `days-${index}`, value: w ? [w.days].flat().join(', ') : '', placeholder: 'mon-fri, sat', autocomplete: 'off' });
  const start = el('input', { type: 'text', name: `start-${index}`, value: w?.start ?? '', placeholder: '02:00', inputmode: 'numeric', autocomplete: 'off' });
  const duration = el('input', { type: 'text', name: `duration-${index}`, value: w?.duration ?? '', placeholder: '3h', autocomplete: 'off' });
  const timezone = el('input', { type: 'text', name: `timezone-${index}`, value: w?.timezone ?? '', placeholder: 'the node’s zone', autocomplete: 'off' });
  const row = el(
    'fieldset',
    { class: 'window-row' },
    el('legend', {}, `Window ${index + 1}`),
    field('Days', days),
    field('Start (HH:MM)', start),
    field('Duration', duration),
    field('Time zone (optional)', timezone),
    el('button', { type: 'button', class: 'remove-window', onclick: () => remove(row) }, 'Remove'),
  );
  row.read = () => ({ days: daysOf(days.value), start: start.value.trim(), duration: duration.value.trim(), ...(timezone.value.trim() ? { timezone: timezone.value.trim() } : {}) });
  return row;
}

function windowsPanel(s, overlay, run, api) {
  const rows = el('div', { class: 'window-rows' });
  const remove = (row) => row.remove();
  const add = (w) => rows.append(windowRow(w, rows.children.length, remove));
  // The overlay's own windows; the group's are shown above as text (status has them described, not as fields).
  for (const w of overlay.windows ?? []) add(w);
  const save = el('button', { type: 'submit', class: 'primary' }, 'Save windows');
  const form = el(
    'form',
    { class: 'windows-form', onsubmit: (e) => (e.preventDefault(), run(save, async () => (await api.editOverlay({ edit: 'windows', windows: [...rows.children].map((r) => r.read()) })).summary)) },
    rows,
    el('div', { class: 'row' }, el('button', { type: 'button', class: 'add-window', onclick: () => add(null) }, 'Add a window'), save),
  );
  const fromGroup = overlay.windows ? el('button', { type: 'button', class: 'group-windows', onclick: () => run(fromGroup, async () => (await api.editOverlay({ edit: 'windows', windows: null })).summary) }, "Use the group's windows") : null;
  const source = { overlay: 'the overlay (they replace the group’s)', group: 'the group (no windows in the overlay)', none: 'nowhere: changes start at once' }[s.windows.from];
  const next = s.windows.next ? `; next opens ${s.windows.next.label}, ${formatInZone(s.windows.next.start, s.zone)}` : '';
  return panel(
    'Maintenance windows',
    { class: 'panel windows' },
    el('p', { class: 'windows-now' }, `In force: ${s.windows.list.length ? s.windows.list.join('; ') : 'none'}, from ${source}. ${s.windows.open ? 'Open now' : 'Closed'}${next}.`),
    el('p', {}, `Automatic changes start only inside a window. Days: mon … sun or a range (mon-fri); times are the node's (${s.zone}) unless a window names its zone. Saving no window at all means changes start at once.`),
    form,
    fromGroup,
  );
}

function approvalPanel(s, run, api) {
  const radio = (value, label) => el('label', { class: 'choice' }, el('input', { type: 'radio', name: 'approval', value, checked: s.approval === value }), ` ${label}`);
  const save = el('button', { type: 'submit' }, 'Save approval');
  const form = el(
    'form',
    {
      class: 'approval-form',
      onsubmit: (e) => {
        e.preventDefault();
        const approval = e.target.querySelector('input[name="approval"]:checked')?.value ?? null;
        run(save, async () => (await api.editOverlay({ edit: 'approval', approval })).summary);
      },
    },
    el('fieldset', {}, el('legend', {}, 'Approval mode'), radio('auto', 'auto: changes go ahead in the windows'), radio('manual', 'manual: changes wait for Upgrade now')),
    save,
  );
  return panel('Approval', { class: 'panel approval' }, form);
}

function composeForm(app, override, apps, run, api) {
  const appInput = app
    ? null
    : el(
        'select',
        { name: 'app' },
        apps.map((a) => el('option', { value: a }, a)),
      );
  const files = el('textarea', { name: 'files', rows: 2 }, (override?.files ?? []).join('\n'));
  const env = el('textarea', { name: 'env', rows: 3 }, Object.entries(override?.env ?? {}).map(([k, v]) => `${k}=${v}`).join('\n'));
  const save = el('button', { type: 'submit' }, 'Save');
  const read = () => {
    const pairs = env.value
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => (l.includes('=') ? [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] : [l, '']));
    const list = files.value
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    return { ...(list.length ? { files: list } : {}), ...(pairs.length ? { env: Object.fromEntries(pairs) } : {}) };
  };
  const target = () => app ?? appInput.value;
  const remove = app ? el('button', { type: 'button', onclick: () => run(remove, async () => (await api.editOverlay({ edit: 'compose', app, override: null })).summary) }, 'Remove') : null;
  return el(
    'form',
    { class: 'compose-form', data: { app: app ?? '' }, onsubmit: (e) => (e.preventDefault(), run(save, async () => (await api.editOverlay({ edit: 'compose', app: target(), override: read() })).summary)) },
    el('h3', {}, app ?? 'Add overrides for an app'),
    appInput ? field('App', appInput) : null,
    field('Extra compose files (one per line, paths on the node)', files),
    field('Environment (NAME=value, one per line)', env),
    el('div', { class: 'row' }, save, remove),
  );
}

function composePanel(s, overlay, run, api) {
  const set = Object.entries(overlay.compose ?? {});
  const others = s.apps.map((a) => a.app).filter((a) => !overlay.compose?.[a]);
  return panel(
    'Compose overrides',
    { class: 'panel compose' },
    el('p', {}, 'Applied after the release’s own compose files, on this node only.'),
    set.map(([app, o]) => composeForm(app, o, [], run, api)),
    others.length ? composeForm(null, null, others, run, api) : null,
  );
}

function agentPanel(o) {
  const a = o.agent;
  return panel(
    'From agent.yaml (read-only)',
    { class: 'panel agent-config' },
    el('p', {}, 'These live in ', el('code', {}, a.file), ', not in the overlay: change them there on the node and restart duck run.'),
    el(
      'dl',
      { class: 'facts' },
      el('dt', {}, 'Channel'),
      el('dd', {}, a.channel.url),
      el('dt', {}, 'Branch'),
      el('dd', {}, a.channel.branch),
      el('dt', {}, 'Checks every'),
      el('dd', {}, a.channel.interval),
      el('dt', {}, 'Trust keys'),
      el('dd', {}, a.trustKeys.length === 0 ? EMPTY : el('ul', { class: 'keys' }, a.trustKeys.map((k) => el('li', {}, `${k.name}: `, el('code', {}, k.fingerprint))))),
      el('dt', {}, 'Backups in'),
      el('dd', {}, a.backupsDir),
    ),
  );
}

function checkPanel(s, zone, ctx, redraw) {
  const out = el('div', { class: 'check-result', 'aria-live': 'polite' });
  const check = el('button', { type: 'button', class: 'primary check-now' }, 'Check now');
  check.addEventListener('click', async () => {
    check.disabled = true;
    out.replaceChildren(el('p', {}, 'Checking the channel…'));
    try {
      const r = await ctx.api.act({ kind: 'fetch' });
      const c = r.data?.channel;
      if (!r.ok || !c) {
        out.replaceChildren(el('p', { class: 'error' }, r.error?.message ?? r.lines.join(' ')));
      } else {
        await redraw();
        ctx.showMessage(`accepted ${c.commit.slice(0, 12)}${c.changed ? ' (new)' : ' (no change)'}`, 'info');
      }
    } catch (err) {
      if (err instanceof ctx.api.LoggedOut) throw err;
      out.replaceChildren(el('p', { class: 'error' }, err.message));
    } finally {
      check.disabled = false;
    }
  });
  const accepted = s.channel.accepted;
  return panel(
    'Check now',
    { class: 'panel check' },
    el('p', { class: 'accepted' }, accepted ? `Accepted ${accepted.commit.slice(0, 12)}, signed by ${accepted.signerName}, committed ${formatInZone(accepted.committedAt, zone)}.` : 'Nothing accepted yet.'),
    s.channel.lastCheckAt ? el('p', {}, `Last checked ${formatInZone(s.channel.lastCheckAt, zone)}.`) : null,
    check,
    out,
  );
}

export async function render(main, ctx) {
  const { api } = ctx;
  const draw = async () => {
    const [s, o] = await Promise.all([ctx.status(), api.overlay()]);
    const run = runner(ctx, draw);
    const overlay = o.overlay ?? {};
    const editable = o.overlay !== null;
    // A panel left out is null or false, which replaceChildren would write as text.
    const panels = [
      el('h1', {}, 'Settings'),
      panel('Overlay', { class: 'panel overlay-file' }, el('p', {}, 'Windows, approval and compose overrides are written to ', el('code', {}, o.file), ' as duck pin and hold write it: your comments stay.'), o.error ? el('p', { class: 'error' }, o.error.message) : null),
      editable && s.windows ? windowsPanel(s, overlay, run, api) : null,
      editable && s.approval ? approvalPanel(s, run, api) : null,
      editable ? composePanel(s, overlay, run, api) : null,
      checkPanel(s, s.zone ?? o.zone, ctx, draw),
      agentPanel(o),
    ];
    main.replaceChildren(...panels.filter(Boolean));
  };
  await draw();
}
