// Diagnostics: the bundle `duck diagnostics` builds (the files with their sizes and how many values
// were redacted in each), built on the node when the page opens, and sent to the controller only
// when the operator clicks the button that names it. A failed upload is shown; the archive stays.
import { formatBytes } from '../bytes.js';
import { el, panel, table } from '../dom.js';

/** Every path starts with the archive's one folder: shown once above the table, not on each row. */
const inFolder = (path) => path.slice(path.indexOf('/') + 1);

function fileRows(files) {
  return files.map((f) => [el('code', { class: 'diag-path' }, inFolder(f.path)), formatBytes(f.bytes), f.redactions > 0 ? el('span', { class: 'diag-redacted' }, `${f.redactions} redacted`) : '—']);
}

export async function render(main, ctx) {
  const building = el('p', { class: 'diag-building', role: 'status' }, 'Building the bundle on this node…');
  main.append(el('h1', {}, 'Diagnostics'), building);
  const bundle = await ctx.api.diagnosticsPreview();
  // Left while the bundle was built (it takes a few seconds): the next page owns <main> now.
  if (!building.isConnected) return;
  building.replaceWith(
    panel(
      'What the bundle holds',
      { class: 'panel diag-files' },
      el('p', {}, `${bundle.files.length} files, ${formatBytes(bundle.bytes)} compressed, kept on this node at `, el('code', { class: 'diag-archive' }, bundle.archive), '.'),
      el(
        'p',
        { class: 'diag-redactions' },
        `${bundle.redactions} value${bundle.redactions === 1 ? ' was' : 's were'} redacted: the values of secret-named keys (tokens, passwords, keys), the channel and enrollment tokens wherever they appear, and credentials in URLs.`,
      ),
      table(['File', 'Size', 'Redactions'], fileRows(bundle.files), { class: 'diag-table' }),
    ),
    uploadPanel(bundle, ctx),
  );
}

function uploadPanel(bundle, ctx) {
  if (bundle.controller === null) {
    return panel('Upload', { class: 'panel diag-upload' }, el('p', {}, 'agent.yaml has no controller section: there is nowhere to upload to. Send the archive above by other means if support asks for it.'));
  }
  const result = el('div', { class: 'diag-result', role: 'status', 'aria-live': 'polite' });
  const send = el('button', { type: 'button', class: 'primary diag-send' }, `Upload to ${bundle.controller}`);
  send.addEventListener('click', async () => {
    send.disabled = true;
    result.replaceChildren(el('p', {}, `Uploading to ${bundle.controller}…`));
    try {
      const answer = await ctx.api.diagnosticsUpload(bundle.id);
      const u = answer.uploaded;
      result.replaceChildren(el('p', { class: 'act-ok' }, `Uploaded to ${answer.controller} as ${u.id} (${formatBytes(u.bytes)}, sha256 ${u.sha256}).`));
    } catch (err) {
      result.replaceChildren(el('p', { class: 'act-error' }, err.message));
      // The archive is kept: the operator may try again once the controller answers.
      send.disabled = false;
    }
  });
  return panel(
    'Upload',
    { class: 'panel diag-upload' },
    el('p', {}, 'Nothing has left this node. The controller keeps what you upload for the fleet operators to read.'),
    send,
    result,
  );
}
