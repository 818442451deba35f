import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Announcement } from '../../schemas/index.js';
import { acknowledgeRefusal, acknowledgementsAfter, announcementsInForce } from '../../agent/src/core/announcements.js';
import { announcementCounts } from '../../controller/src/announcement-counts.js';
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

test('an acknowledgement is refused for an id the file lacks, one expired, one aimed at other nodes', () => {
  const all = [notice('here'), notice('over', { expires: '2026-11-01T00:00:00Z' }), notice('staging', { target: { groups: ['staging'] } })];
  const inForce = announcementsInForce(all, node, now);
  assert.is(acknowledgeRefusal(all, inForce, 'here', now), null);
  assert.match(acknowledgeRefusal(all, inForce, 'gone', now) ?? '', /^no announcement gone in the accepted channel commit/);
  assert.match(acknowledgeRefusal(all, inForce, 'over', now) ?? '', /^announcement over expired at 2026-11-01T00:00:00Z/);
  assert.match(acknowledgeRefusal(all, inForce, 'staging', now) ?? '', /^announcement staging is not for this node/);
});

test('acknowledgements keep only ids still in the file, and the first time of each', () => {
  const file = new Set(['a', 'b']);
  const first = acknowledgementsAfter({ gone: 't0', a: 't1' }, file, 'b', 't2');
  assert.equal(first, { a: 't1', b: 't2' });
  assert.equal(acknowledgementsAfter(first, file, 'a', 't3'), { a: 't1', b: 't2' }, 'a second acknowledgement keeps the first time');
});

test('the controller counts each node once per id, the newest report naming the title', () => {
  const seen = (id: string, title: string) => ({ id, title, severity: 'info' as const });
  const agent = (at: string, announcements: Array<string | ReturnType<typeof seen>>, acknowledged?: string[]) => ({
    lastSeenAt: at,
    status: { group: 'g', channel: { commit: 'c', committedAt: at, stale: false, refusal: null }, apps: [], announcements, ...(acknowledged ? { acknowledged } : {}) },
  });
  const counts = announcementCounts([
    agent('2026-12-01T00:00:00Z', [seen('a', 'old title'), seen('a', 'old title')], ['a']),
    agent('2026-12-02T00:00:00Z', [seen('a', 'new title'), 'b']),
    agent('2026-11-30T00:00:00Z', ['a'], ['a', 'not-in-force']),
    { lastSeenAt: null, status: null },
  ]);
  assert.equal(counts, [
    { id: 'a', title: 'new title', severity: 'info', seen: 3, acknowledged: 2 },
    { id: 'b', title: null, severity: null, seen: 1, acknowledged: 0 },
  ]);
});

test.run();
