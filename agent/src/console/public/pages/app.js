// One app (`#/app/<name>`): what the agent decided and why, in plain words, and what the operator may
// change about it in the overlay — pin, hold, schedule — plus a retry of a failed version. Edits
// go through POST /api/overlay (routes-overlay.ts): the CLI's own edits, comments kept.
import { el, panel, table } from '../dom.js';
import { formatInZone, wallTimeOf, wallTimeToInstant } from '../node-time.js';
import { pageHash } from '../routes.js';
import { field, runner } from '../overlay-forms.js';

const EMPTY = '—';

/** The decision as a sentence: the reason (below it) says the rest in the agent's own words. */
export function headline(a, zone) {
  const until = a.until ? formatInZone(a.until, zone) : null;
  if (a.decision === 'apply') return `Moving ${a.current ?? 'nothing'} → ${a.desired} now`;
  if (a.decision === 'none') return a.pinned ? `Pinned to ${a.current}` : a.current ? `Up to date: running ${a.current}` : 'Nothing to do';
  switch (a.waitingFor) {
    case 'window':
      return until ? `Waiting for the maintenance window: ${until}` : 'Waiting for the maintenance window';
    case 'hold':
      return until ? `Held until ${until}` : 'Held until the hold is lifted';
    case 'schedule':
      return `Scheduled for ${until}`;
    case 'failed':
      return `${a.desired} failed here; not retried until its release changes, Retry, or Upgrade now`;
    case 'backoff':
      return `${a.desired} failed; tried again at ${until}, or now with Retry`;
    case 'approval':
      return 'Waiting for approval (approval: manual): Upgrade now moves it';
    case 'rollout':
      return until ? `Waiting for the staged rollout to reach this node: ${until}` : 'Waiting for the staged rollout';
    case 'stopped':
      return 'Stopped by the operator: waits for Start';
    case 'release':
      return 'Waiting for a release the channel lacks';
    case 'clock':
      return 'The clock went back: no time-based decision until it catches up';
    default:
      return 'Waiting';
  }
}

function appList(s) {
  return [
    el('h1', {}, 'Apps'),
    panel(
      'Apps on this node',
      { class: 'panel apps' },
      s.apps.length === 0 ? el('p', {}, 'No apps yet.') : el('ul', { class: 'app-links' }, s.apps.map((a) => el('li', {}, el('a', { href: pageHash('app', a.app) }, a.app)))),
    ),
  ];
}

function decisionPanel(a, zone) {
  return panel(
    'Decision',
    { class: 'panel decision-panel' },
    el('p', { class: 'headline', data: { decision: a.decision } }, headline(a, zone)),
    el('p', { class: 'reason' }, a.reason ?? EMPTY),
    el(
      'dl',
      { class: 'facts' },
      el('dt', {}, 'State'),
      el('dd', {}, el('span', { class: 'state', data: { state: a.state ?? 'unknown' } }, a.state ?? 'unknown')),
      el('dt', {}, 'Running'),
      el('dd', {}, a.current ?? EMPTY),
      el('dt', {}, 'Asked'),
      el('dd', {}, a.desired ?? EMPTY),
      el('dt', {}, 'Group asks'),
      el('dd', {}, a.groupVersion ?? EMPTY),
    ),
  );
}

function retryPanel(a, run, api) {
  if (a.waitingFor !== 'failed' && a.waitingFor !== 'backoff') return null;
  const retry = el('button', { type: 'button', class: 'primary', onclick: () => run(retry, async () => (await api.act({ kind: 'retry', app: a.app })).lines.join(' ')) }, `Retry ${a.desired}`);
  return panel('Retry', { class: 'panel retry' }, el('p', {}, 'Lifts the quarantine of the failed version: it is tried again when its turn comes (a window still applies).'), retry);
}

function pinPanel(a, overlay, run, api) {
  const pinned = overlay.pin?.[a.app];
  if (pinned) {
    const unpin = el('button', { type: 'button', onclick: () => run(unpin, async () => (await api.editOverlay({ edit: 'unpin', app: a.app })).summary) }, 'Unpin');
    return panel('Pin', { class: 'panel pin' }, el('p', {}, `Pinned to ${pinned}: the node runs it whatever the group asks.`), unpin);
  }
  const version = el('input', { type: 'text', name: 'version', required: true, value: a.current ?? a.desired ?? '', autocomplete: 'off' });
  const pin = el('button', { type: 'submit' }, 'Pin');
  const form = el(
    'form',
    { class: 'row', onsubmit: (e) => (e.preventDefault(), run(pin, async () => (await api.editOverlay({ edit: 'pin', app: a.app, version: version.value.trim() })).summary)) },
    field('Version', version),
    pin,
  );
  return panel('Pin', { class: 'panel pin' }, el('p', {}, 'Run this version whatever the group asks (the release must be in the accepted commit).'), form);
}

function holdPanel(overlay, run, api) {
  const hold = overlay.hold;
  const reason = el('input', { type: 'text', name: 'reason', required: true, value: hold?.reason ?? '', autocomplete: 'off' });
  const until = el('input', { type: 'date', name: 'until', value: hold?.until && hold.until.length === 10 ? hold.until : '' });
  const submit = el('button', { type: 'submit' }, hold ? 'Change the hold' : 'Hold');
  const form = el(
    'form',
    { class: 'row', onsubmit: (e) => (e.preventDefault(), run(submit, async () => (await api.editOverlay({ edit: 'hold', reason: reason.value, until: until.value || null })).summary)) },
    field('Reason', reason),
    field('Until (optional, through that day)', until),
    submit,
  );
  const unhold = hold ? el('button', { type: 'button', class: 'unhold', onclick: () => run(unhold, async () => (await api.editOverlay({ edit: 'unhold' })).summary) }, 'Unhold') : null;
  const now = hold ? el('p', { class: 'held' }, `Held: ${hold.reason}${hold.until ? ` until ${hold.until}` : ''}.`) : el('p', {}, 'Not held.');
  return panel('Hold (the whole node)', { class: 'panel hold' }, el('p', {}, 'A hold stops every version change on this node, urgent ones included.'), now, form, unhold);
}

function schedulePanel(a, overlay, zone, run, api) {
  const at = overlay.schedule?.[a.app]?.at;
  const picker = el('input', { type: 'datetime-local', name: 'at', required: true, value: at ? wallTimeOf(at, zone) : '' });
  const submit = el('button', { type: 'submit' }, 'Schedule');
  const form = el(
    'form',
    {
      class: 'row',
      onsubmit: (e) => {
        e.preventDefault();
        run(submit, async () => {
          const instant = wallTimeToInstant(picker.value, zone);
          if (!instant) throw new Error('pick a date and a time');
          return (await api.editOverlay({ edit: 'schedule', app: a.app, at: instant })).summary;
        });
      },
    },
    field(`Upgrade at (${zone})`, picker),
    submit,
  );
  const cancel = at ? el('button', { type: 'button', onclick: () => run(cancel, async () => (await api.editOverlay({ edit: 'unschedule', app: a.app })).summary) }, 'Cancel the schedule') : null;
  return panel(
    'Schedule',
    { class: 'panel schedule' },
    el('p', {}, `When the upgrade may run, whatever the windows say (a hold still wins). Times are the node's: ${zone}.`),
    at ? el('p', { class: 'scheduled' }, `Scheduled for ${formatInZone(at, zone)} (${at}).`) : null,
    form,
    cancel,
  );
}

export async function render(main, ctx) {
  const { api, args } = ctx;
  const name = args[0];
  const draw = async () => {
    const s = await ctx.status();
    if (!name) return main.replaceChildren(...appList(s));
    const a = s.apps.find((x) => x.app === name);
    if (!a) return main.replaceChildren(el('h1', {}, name), panel('Not on this node', {}, el('p', {}, `The accepted commit's group has no app ${name}.`), el('a', { href: pageHash('app') }, 'All apps')));
    const o = await api.overlay();
    const run = runner(ctx, draw);
    const overlay = o.overlay ?? {};
    const editable = o.overlay !== null;
    // A panel left out is null or false, which replaceChildren would write as text.
    const panels = [
      el('h1', {}, name),
      decisionPanel(a, s.zone),
      retryPanel(a, run, api),
      editable ? null : panel('The overlay is invalid', { class: 'panel overlay-error' }, el('p', {}, o.error.message), el('p', {}, 'Fix it on the node first: the agent ignores it while it is invalid.')),
      editable ? pinPanel(a, overlay, run, api) : null,
      editable ? schedulePanel(a, overlay, s.zone, run, api) : null,
      editable ? holdPanel(overlay, run, api) : null,
      panel('Overlay', { class: 'panel overlay-file' }, el('p', {}, 'These edits are written to ', el('code', {}, o.file), ' as duck pin, hold and schedule write them: your comments stay.')),
    ];
    main.replaceChildren(...panels.filter(Boolean));
    if (a.backoff) main.append(panel('Back-off', {}, table(['Cause', 'Failures', 'Next try'], [[a.backoff.cause, String(a.backoff.failures), formatInZone(a.backoff.nextTryAt, s.zone)]])));
  };
  await draw();
}
