import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Announcement } from '../../schemas/index.js';
import { announcementsInForce } from '../../agent/src/core/announcements.js';
import { parseVersionRange, satisfiesRange } from '../../agent/src/core/version-range.js';
import { appendAnnouncement } from '../../agent/src/release/add-announcement.js';

const now = new Date('2026-12-01T00:00:00Z');
const node = { group: 'production', running: { shop: '1.4.0', blog: '0.9.1' }, agentVersion: '0.3.0' };

function notice(id: string, extra: Partial<Announcement> = {}): Announcement {
  return { id, title: id, body: '', severity: 'info', expires: '2026-12-31T00:00:00Z', ...extra };
}
const ids = (list: readonly Announcement[]): string[] => list.map((a) => a.id);

test('a range holds when every comparator holds, versions compared part by part', () => {
  assert.ok(satisfiesRange('1.10.0', '>=1.2.0 <2.0.0'), '1.10 is above 1.2, numerically');
  assert.not.ok(satisfiesRange('2.0.0', '>=1.2.0 <2.0.0'));
  assert.not.ok(satisfiesRange('1.1.9', '>=1.2.0 <2.0.0'));
  assert.ok(satisfiesRange('1.3.0', '1.3.0'), 'a bare version means =');
  assert.ok(satisfiesRange('1.3.0', '<=1.3.0'));
  assert.not.ok(satisfiesRange('1.3.0', '>1.3.0'));
  assert.ok(satisfiesRange('0.3.0', '=0.3.0'));
});

test('a range that does not parse says which part and holds for nothing', () => {
  assert.equal(parseVersionRange('~1.2'), { error: '"~1.2" is not a comparator like >=1.2.0 (operators >=, >, <=, <, =)' });
  assert.equal(parseVersionRange('  '), { error: 'is empty' });
  assert.not.ok(satisfiesRange('1.2.0', '^1.2.0'));
});

test('an announcement without a target is in force on every node until it expires', () => {
  const all = [notice('open'), notice('expired', { expires: '2026-11-30T23:59:59Z' }), notice('at-now', { expires: '2026-12-01T00:00:00Z' })];
  assert.equal(ids(announcementsInForce(all, node, now)), ['open'], 'an expiry at now is past');
});

test('a group target matches only nodes of those groups, never a node without a group', () => {
  const all = [notice('prod', { target: { groups: ['staging', 'production'] } }), notice('staging', { target: { groups: ['staging'] } })];
  assert.equal(ids(announcementsInForce(all, node, now)), ['prod']);
  assert.equal(ids(announcementsInForce(all, { ...node, group: null }, now)), []);
});

test('an app target matches when any listed app runs at a version in its range', () => {
  const all = [
    notice('shop-1x', { target: { apps: { shop: '>=1.2.0 <2.0.0' } } }),
    notice('shop-2x', { target: { apps: { shop: '>=2.0.0' } } }),
    notice('either', { target: { apps: { shop: '>=2.0.0', blog: '<1.0.0' } } }),
    notice('not-running', { target: { apps: { mail: '>=0' } } }),
  ];
  assert.equal(ids(announcementsInForce(all, node, now)), ['shop-1x', 'either']);
});

test('an agent target matches the agent version', () => {
  const all = [notice('old-agents', { target: { agent: '<0.3.0' } }), notice('this-agent', { target: { agent: '>=0.3.0' } })];
  assert.equal(ids(announcementsInForce(all, node, now)), ['this-agent']);
});

test('every key of a target must match', () => {
  const both = notice('both', { target: { groups: ['production'], apps: { shop: '>=1.0.0' }, agent: '<0.2.0' } });
  assert.equal(ids(announcementsInForce([both], node, now)), [], 'group and app match, the agent does not');
  assert.equal(ids(announcementsInForce([both], { ...node, agentVersion: '0.1.0' }, now)), ['both']);
});

test('appending to an empty file, or one of comments only, starts the list; comments and entries stay', () => {
  const fresh = appendAnnouncement('', notice('a'));
  assert.is(fresh, '- id: a\n  title: a\n  body: ""\n  severity: info\n  expires: 2026-12-31T00:00:00Z\n');
  const commented = appendAnnouncement('# notices\n', notice('a'));
  assert.match(commented, /^# notices\n\n?- id: a\n/);
  const second = appendAnnouncement(`# notices\n${fresh.replace('- id: a', '- id: a # first')}`, notice('b', { target: { groups: ['production'] } }));
  assert.ok(second.startsWith(`# notices\n${fresh.replace('- id: a', '- id: a # first')}- id: b\n`), second);
});

test('appending never reuses an id', () => {
  const text = appendAnnouncement('', notice('a'));
  assert.throws(() => appendAnnouncement(text, notice('a')), /an announcement with id a exists: ids are never reused/);
});

test.run();
