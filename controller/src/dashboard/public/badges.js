// Coloured labels for an agent's state and a change's outcome; the word is always there, so the
// colour is never the only signal.
import { el } from './dom.js';
import { OUTCOME_LABELS, STATE_LABELS } from './format.js';

export function stateBadge(state) {
  return el('span', { class: `badge state-${state}`, data: { state } }, STATE_LABELS[state] ?? state);
}

export function outcomeBadge(outcome) {
  return el('span', { class: `badge outcome outcome-${outcome}`, data: { outcome } }, OUTCOME_LABELS[outcome] ?? outcome);
}
