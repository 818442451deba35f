// What an app's status says beyond its versions, as short tags: a pin, an operator's stop, what a
// wait waits for (a window until when, a hold, …) and a back-off with its next try. The fleet view
// and the agent page show the same words.
import { el } from './dom.js';
import { dateTime, fromNow } from './format.js';

const WAIT_LABELS = {
  window: 'waiting for a window',
  rollout: 'not in the rollout yet',
  hold: 'held',
  approval: 'waiting for approval',
  schedule: 'scheduled',
  stopped: 'stopped by an operator',
  failed: 'failed here',
  backoff: 'backing off',
  clock: 'waiting for the clock',
  release: 'waiting for the release',
};

function tag(kind, className, text, title) {
  return el('span', { class: `tag ${className}`, data: { note: kind }, title: title ?? null }, text);
}

/** The group's version when a pin (or anything else) makes the node's differ from it. */
export function groupVersionNote(app) {
  if (app.groupVersion === undefined || app.groupVersion === app.desired) return null;
  return tag('group-version', 'tag-info', `group asks ${app.groupVersion ?? 'none'}`, 'The version the group file asks for, before this node\'s pin');
}

/** Tags for one app's status; `now` in ms for "in 3 h". */
export function appNotes(app, now) {
  const notes = [];
  if (app.pinned) notes.push(tag('pinned', 'tag-info', 'pinned', 'The operator pinned this version in the overlay'));
  if (app.state === 'stopped') notes.push(tag('stopped', 'tag-warn', 'stopped', 'Stopped by an operator (duck stop)'));
  if (app.decision === 'wait' && app.waitingFor && app.waitingFor !== 'backoff' && !(app.waitingFor === 'stopped' && app.state === 'stopped')) {
    const until = app.until ? ` until ${dateTime(app.until)}` : '';
    notes.push(tag(`wait-${app.waitingFor}`, 'tag-info', `${WAIT_LABELS[app.waitingFor] ?? app.waitingFor}${until}`, app.reason));
  }
  if (app.backoff) {
    const b = app.backoff;
    notes.push(
      tag('backoff', 'tag-bad', `failed ${b.failures}× (${b.cause}), next try ${fromNow(b.nextTryAt, now)}`, `${b.message ?? b.cause}; next try ${dateTime(b.nextTryAt)}`),
    );
  }
  return notes;
}
