// What the pages that edit the overlay share (pages/app.js, pages/settings.js): a labelled input,
// and the run of one edit or act — the button held while it runs, the page drawn again from the
// node's answer, and the edit's summary or its refusal (naming the field) in the status line.
import { el } from './dom.js';

/** An input with its visible label: the label wraps it, so a click or a screen reader finds it. */
export function field(label, input) {
  return el('label', { class: 'field' }, el('span', {}, label), input);
}

/** `run(button, work)`: `work` answers the line to show; a failure shows its message as an error. */
export function runner(ctx, redraw) {
  return async (button, work) => {
    button.disabled = true;
    try {
      const answer = await work();
      await redraw();
      ctx.showMessage(answer, 'info');
    } catch (err) {
      button.disabled = false;
      if (err instanceof ctx.api.LoggedOut) throw err;
      ctx.showMessage(err.message, 'error');
    }
  };
}
