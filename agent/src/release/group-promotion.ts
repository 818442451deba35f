// `duck release promote`: the one-line change of a group file that publishes a release (DESIGN
// §2), made the way a person would make it: comments, key order and formatting kept. Pure: the
// command reads and writes the file and checks that the version exists.
import { isMap, isScalar, Scalar, stringify } from 'yaml';
import type { RolloutStep } from '../../../schemas/index.js';
import { parseDuration } from '../core/duration.js';
import { compareVersions } from '../core/plan.js';
import { DuckError } from '../../../schemas/errors.js';
import { editYamlText, parseInstant, parseOverlayDocument } from '../core/overlay-edits.js';

export interface Promotion {
  readonly app: string;
  readonly version: string;
  readonly rollout?: readonly RolloutStep[] | undefined;
  readonly urgent: boolean;
  /** A promotion-only signer's change (`--scope promote`): `urgent` is not theirs to set or clear. */
  readonly keepUrgent?: boolean;
}

export interface PromotionResult {
  readonly text: string;
  readonly previous: string | undefined;
  /** urgent was true and this promotion is not urgent: it was set back to false. */
  readonly urgentCleared: boolean;
}

/**
 * "10%@now,50%@+24h,100%@2026-11-27T02:00:00Z" -> steps with absolute times. Relative times count
 * from `now` (when the command runs) and are written out absolute: agents judge a rollout by their
 * own clock, never by when a commit was made or merged.
 */
export function parseRollout(spec: string, now: Date): RolloutStep[] {
  const steps = spec.split(',').map((part, index) => {
    const match = /^\s*(\d{1,3})%@(\S+)\s*$/.exec(part);
    if (!match) throw new DuckError('usage', `--rollout step ${index + 1} "${part}": expected <percent>%@<now | +duration | RFC 3339 time>, e.g. 10%@now`);
    const percent = Number(match[1]);
    if (percent > 100) throw new DuckError('usage', `--rollout step ${index + 1}: ${percent}% is over 100%`);
    return { percent, at: stepTime(match[2]!, now, index) };
  });
  for (let i = 1; i < steps.length; i++) {
    if (Date.parse(steps[i]!.at) < Date.parse(steps[i - 1]!.at)) {
      throw new DuckError('usage', `--rollout step ${i + 1} (${steps[i]!.at}) starts before step ${i} (${steps[i - 1]!.at})`);
    }
  }
  return steps;
}

function stepTime(text: string, now: Date, index: number): string {
  if (text === 'now') return iso(now);
  if (text.startsWith('+')) return iso(new Date(now.getTime() + parseDuration(text.slice(1), { field: `--rollout step ${index + 1}` })));
  // parseInstant also reads the overlay's "date time" form; a group file gets RFC 3339 with a T.
  if (/\s/.test(text) || parseInstant(text) === null) {
    throw new DuckError('usage', `--rollout step ${index + 1}: "${text}" is not now, +<duration> (+24h) or an RFC 3339 time with a zone`);
  }
  return text;
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function promoteInGroup(text: string, promotion: Promotion): PromotionResult {
  const old = parseOverlayDocument(text).getIn(['apps', promotion.app], true);
  const previous = isScalar(old) && old.value !== null ? String(old.value) : undefined;
  // The version line is the whole change a reviewer should see: its bytes are replaced in place, so
  // the spacing before a trailing comment and the quoting style stay as the person wrote them.
  const spliced = isScalar(old) && old.range ? spliceScalar(text, old, ['apps', promotion.app], promotion.version) : null;
  let urgentCleared = false;
  const result = editYamlText(spliced ?? text, (doc) => {
    if (spliced === null) doc.setIn(['apps', promotion.app], promotion.version);
    if (promotion.rollout) {
      const node = doc.createNode(promotion.rollout.map((s) => ({ percent: s.percent, at: s.at })));
      // One step per line, as the template writes them: { percent: 10, at: … }.
      for (const item of node.items) if (isMap(item)) item.flow = true;
      doc.set('rollout', node);
    }
    if (promotion.urgent) doc.set('urgent', true);
    else if (doc.get('urgent') === true && !promotion.keepUrgent) {
      // A flag left from the last security release would let this one skip the windows too.
      doc.set('urgent', false);
      urgentCleared = true;
    }
  });
  return { text: result.text, previous, urgentCleared };
}

/**
 * What `--scope promote` may write (DESIGN §3, promotion-only keys): an app version at or above
 * channel.yaml's promotion floor, never the `urgent` flag. Agents refuse anything else as
 * out-of-scope; this says so before the commit is made.
 */
export function assertPromotionInScope(promotion: Promotion, floor: Readonly<Record<string, string>>, groupFile: string): void {
  if (promotion.urgent) {
    throw new DuckError('usage', `${groupFile}: /urgent: a promotion-only key may not set urgent (agents refuse it as out-of-scope); a full-scope signer marks security releases`, {
      file: groupFile,
      field: '/urgent',
    });
  }
  const bound = floor[promotion.app];
  if (bound !== undefined && compareVersions(promotion.version, bound) < 0) {
    throw new DuckError('usage', `${groupFile}: /apps/${promotion.app}: ${promotion.version} is below the promotion floor ${bound} (channel.yaml /promotion/floor/${promotion.app})`, {
      file: groupFile,
      field: `/apps/${promotion.app}`,
    });
  }
}

function spliceScalar(text: string, node: Scalar, path: readonly string[], value: string): string | null {
  const [start, end] = node.range!;
  const quoted = node.type === Scalar.QUOTE_DOUBLE ? JSON.stringify(value) : node.type === Scalar.QUOTE_SINGLE ? `'${value}'` : null;
  // A plain scalar that would read as a number ("1.10") or boolean is quoted, as yaml would.
  const plain = quoted ?? stringify(value, { lineWidth: 0 }).trimEnd();
  const next = text.slice(0, start) + plain + text.slice(end);
  const reread = parseOverlayDocument(next);
  return reread.errors.length === 0 && reread.getIn(path) === value ? next : null;
}

export interface AgentPromotionResult {
  readonly text: string;
  readonly previous: string | undefined;
}

/**
 * `duck release agent set`: the group's `agent: { version }`, its one line replaced in place when
 * it is there (comments and quoting kept), added otherwise. A group's rollout and urgent flag are
 * about its apps and are left alone: the agent update follows the windows, hold, pin and approval.
 */
export function setAgentInGroup(text: string, version: string): AgentPromotionResult {
  const path = ['agent', 'version'];
  const old = parseOverlayDocument(text).getIn(path, true);
  const previous = isScalar(old) && old.value !== null ? String(old.value) : undefined;
  const spliced = isScalar(old) && old.range ? spliceScalar(text, old, path, version) : null;
  if (spliced !== null) return { text: spliced, previous };
  return { text: editYamlText(text, (doc) => doc.set('agent', doc.createNode({ version }))).text, previous };
}
