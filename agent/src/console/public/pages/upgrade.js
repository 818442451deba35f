// Upgrade now (issue 16): `#/upgrade/<app>` shows what runs, what the accepted channel asks for and
// the release notes; Confirm hands the upgrade to the node's one writer and follows its journalled
// steps live (the records `duck upgrade` prints), ending on the outcome. Without an app, the apps
// that have an upgrade to confirm.
import { el, panel } from '../dom.js';
import { pageHash } from '../routes.js';

const STEP_LABELS = {
  writeRelease: 'Writing the release files',
  fetchImages: 'Pulling the images',
  preCopy: 'Copying the data while the app serves',
  create: 'Creating the new containers',
  stop: 'Stopping the app',
  backup: 'Backing up',
  restoreData: 'Restoring the data',
  restoreRelease: 'Restoring the release',
  switchRelease: 'Switching the release',
  down: 'Removing the containers',
  removeVolumes: 'Removing the volumes',
  removeAppFiles: 'Removing the app files',
  up: 'Starting the app',
  awaitHealth: 'Checking health',
  pinVersion: 'Pinning the version',
};

const stepLabel = (kind) => STEP_LABELS[kind] ?? kind;

/** One step record (core/request-progress.ts) in words, or null for one the log does not show. */
function describe(record) {
  const f = record.fields;
  switch (record.event) {
    case 'change':
      return `Planned: ${f.kind} ${f.from ?? 'nothing'} → ${f.to ?? 'nothing'}, ${(f.steps ?? []).length} steps`;
    case 'step':
      return `${stepLabel(f.step)}: done (${(f.ms / 1000).toFixed(1)} s)`;
    case 'step-failed':
      return `${stepLabel(f.step)}: failed: ${f.message}`;
    case 'rollback':
      return `Rolling back to ${f.to ?? 'nothing'}: ${f.reason}`;
    case 'download':
      return `Downloading ${f.url}: ${f.bytes} of ${f.total} bytes`;
    case 'engine-wait':
      return `Waiting for the Docker engine: ${f.message}`;
    case 'recover':
      return `Finishing what an interrupted change left (${f.step ?? 'start'})`;
    case 'outcome':
      return `${f.outcome}: ${f.reason}`;
    default:
      return null;
  }
}

async function renderChoice(main, { status }) {
  const s = await status();
  const pending = s.apps.filter((a) => a.desired && a.desired !== a.current);
  main.append(
    el('h1', {}, 'Upgrade'),
    panel(
      'Apps with an upgrade',
      { class: 'panel upgrades' },
      pending.length === 0
        ? el('p', {}, 'Every app runs the version it is asked to run.')
        : el('ul', { class: 'upgrade-list' }, pending.map((a) => el('li', {}, el('a', { href: pageHash('upgrade', a.app) }, `${a.app}: ${a.current ?? 'not installed'} → ${a.desired}`)))),
    ),
  );
}

export async function render(main, ctx) {
  const [app] = ctx.args;
  if (!app) return renderChoice(main, ctx);
  const offer = await ctx.api.upgradeOffer(app);
  const versions = el(
    'dl',
    { class: 'facts upgrade-versions' },
    el('dt', {}, 'Running'),
    el('dd', { class: 'current' }, offer.current ?? 'not installed'),
    el('dt', {}, 'Target'),
    el('dd', { class: 'target' }, offer.target ?? 'nothing'),
  );
  const notes = offer.notes ? el('pre', { class: 'release-notes' }, offer.notes.trim()) : el('p', { class: 'release-notes' }, 'This release has no notes.');
  const progressArea = el('div', { class: 'upgrade-progress-area' });
  main.append(el('h1', {}, `Upgrade ${app}`), panel('Versions', { class: 'panel upgrade-offer' }, versions), panel('Release notes', { class: 'panel notes' }, notes), progressArea);
  if (offer.decision !== 'apply') {
    progressArea.append(panel('Not now', { class: 'panel upgrade-refused' }, el('p', {}, offer.reason ?? 'nothing to upgrade'), el('a', { href: pageHash('dashboard') }, 'Back to the dashboard')));
    return undefined;
  }

  let close = null;
  const confirm = el('button', { class: 'primary confirm-upgrade', type: 'button' }, `Confirm: upgrade to ${offer.target}`);
  const cancel = el('a', { class: 'button', href: pageHash('dashboard') }, 'Cancel');
  const actions = panel('Confirm', { class: 'panel upgrade-confirm' }, el('p', {}, `${app} moves to ${offer.target}: its data is backed up first, and the change rolls back if the new version does not turn healthy.`), el('div', { class: 'actions' }, confirm, cancel));
  progressArea.append(actions);
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    try {
      // The versions shown are the ones asked for: a channel that moved since is refused, not applied.
      const { id } = await ctx.api.followAct({ kind: 'upgrade', apps: [app], targets: { [app]: offer.target } });
      actions.remove();
      close = follow(progressArea, app, id, ctx);
    } catch (err) {
      confirm.disabled = false;
      ctx.showMessage(err.message, 'error');
    }
  });
  return () => close?.();
}

/** The progress panel: a bar of steps done against the plan's, the step log as it comes, then the outcome. */
function follow(area, app, id, ctx) {
  const bar = el('progress', { class: 'upgrade-bar', max: '1', value: '0', 'aria-label': 'Steps done' });
  const count = el('p', { class: 'upgrade-count' }, 'Waiting for the node to start…');
  const log = el('ol', { class: 'step-log', 'aria-live': 'polite' });
  const outcome = el('p', { class: 'upgrade-outcome', role: 'status' });
  area.append(panel('Progress', { class: 'panel upgrade-progress' }, bar, count, log, outcome));
  let planned = 0;
  let done = 0;
  const onStep = (record) => {
    if (record.fields.app !== undefined && record.fields.app !== app) return;
    if (record.event === 'change') {
      planned = (record.fields.steps ?? []).length;
      done = 0;
    }
    if (record.event === 'step') done += 1;
    if (record.event === 'rollback') count.dataset.phase = 'rollback';
    bar.max = Math.max(planned, 1);
    bar.value = Math.min(done, bar.max);
    count.textContent = count.dataset.phase === 'rollback' ? `Rolling back after ${done} of ${planned} steps` : `${done} of ${planned} steps done`;
    const line = describe(record);
    if (line) log.append(el('li', { data: { event: record.event } }, line));
  };
  const onDone = (result) => {
    close();
    const change = result.changes?.find((c) => c.app === app);
    const end = result.error ? 'refused' : (change?.outcome ?? (result.ok ? 'applied' : 'failed'));
    const why = result.error?.message ?? change?.reason ?? result.lines?.join(' ') ?? '';
    if (end === 'applied') bar.value = bar.max;
    outcome.dataset.outcome = end;
    outcome.replaceChildren(el('strong', {}, end), why ? `: ${why}` : '', ' ', el('a', { href: pageHash('dashboard') }, 'Back to the dashboard'));
  };
  const close = ctx.api.events(`/api/acts/${encodeURIComponent(id)}/events`, ['step', 'done'], (type, data) => (type === 'step' ? onStep(data) : onDone(data)));
  return close;
}
