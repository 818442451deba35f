// DESIGN §3, promotion-only keys: what a `scope: promote` signer may change, as the pure rule over
// a tree difference and the changed group files. One case per way out of scope.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { GroupFile } from '../../schemas/index.js';
import type { Published } from '../../agent/src/channel/promotion-rule.js';
import { describeProblem, groupChangeProblem, promotedGroupFiles } from '../../agent/src/channel/promotion-rule.js';

const FILE = 'groups/production.yaml';
const WINDOWS: GroupFile['windows'] = [{ days: 'sat', start: '02:00', duration: '3h', timezone: 'UTC' }];
const BEFORE: GroupFile = { apps: { shop: '1.1.0', billing: '2.0.0' }, windows: WINDOWS, agent: { version: '0.3.0' } };
const PUBLISHED: Published = {
  release: (app, version) => ['shop@1.0.0', 'shop@1.1.0', 'shop@1.2.0', 'billing@2.0.0', 'cart@1.0.0'].includes(`${app}@${version}`),
  agent: (version) => ['0.3.0', '0.4.0'].includes(version),
};

function problemOf(after: GroupFile, floor: Record<string, string> = {}): string | null {
  const p = groupChangeProblem({ file: FILE, before: BEFORE, after }, PUBLISHED, floor);
  return p ? describeProblem(p) : null;
}

test('only modified groups/*.yaml files may change', () => {
  assert.equal(promotedGroupFiles([{ path: FILE, kind: 'modified' }, { path: 'groups/staging.yaml', kind: 'modified' }]), {
    files: [FILE, 'groups/staging.yaml'],
  });
  assert.equal(promotedGroupFiles([]), { files: [] });
  const cases: Array<[string, 'added' | 'removed' | 'modified']> = [
    ['releases/shop/1.3.0', 'added'],
    ['releases/shop/1.1.0/compose.yaml', 'modified'],
    ['groups/canary.yaml', 'added'],
    ['groups/staging.yaml', 'removed'],
    ['groups/eu/production.yaml', 'modified'],
    ['agents/0.5.0', 'added'],
    ['announcements.yaml', 'modified'],
    ['README.md', 'modified'],
  ];
  for (const [path, kind] of cases) {
    const r = promotedGroupFiles([{ path: FILE, kind: 'modified' }, { path, kind }]);
    assert.ok('problem' in r, `${kind} ${path}`);
    if ('problem' in r) assert.equal([r.problem.file, r.problem.field], [path, ''], `${kind} ${path}`);
  }
});

test('moving app versions, the rollout and the agent version among published ones is in scope', () => {
  assert.is(problemOf({ ...BEFORE, apps: { shop: '1.2.0', billing: '2.0.0' } }), null);
  assert.is(problemOf({ ...BEFORE, apps: { shop: '1.0.0', billing: '2.0.0' } }), null, 'without a floor, back to a published version');
  assert.is(problemOf({ ...BEFORE, rollout: [{ percent: 10, at: '2026-11-24T02:00:00Z' }] }), null);
  assert.is(problemOf({ ...BEFORE, agent: { version: '0.4.0' } }), null);
  assert.is(problemOf({ ...BEFORE, apps: { ...BEFORE.apps, cart: '1.0.0' } }), null, 'adding a published app');
});

test('any other field of the group is out of scope, named by its field', () => {
  const { windows: _w, ...noWindows } = BEFORE;
  assert.is(problemOf(noWindows), `${FILE}: /windows: only app versions, rollout and agent.version may change in a promotion`);
  assert.match(problemOf({ ...BEFORE, urgent: true })!, /: \/urgent: /);
  assert.match(problemOf({ ...BEFORE, description: 'now urgent' })!, /: \/description: /);
  assert.match(problemOf({ ...BEFORE, windows: [{ ...WINDOWS![0]!, duration: '4h' }] })!, /: \/windows: /);
});

test('unpublished versions, removed apps and a removed agent pin are out of scope', () => {
  assert.is(problemOf({ ...BEFORE, apps: { shop: '9.9.9', billing: '2.0.0' } }), `${FILE}: /apps/shop: 9.9.9 is not published`);
  assert.is(problemOf({ ...BEFORE, apps: { ...BEFORE.apps, cart: '2.0.0' } }), `${FILE}: /apps/cart: 2.0.0 is not published`);
  assert.is(problemOf({ ...BEFORE, apps: { shop: '1.1.0' } }), `${FILE}: /apps/billing: an app may not be removed from a group in a promotion`);
  assert.is(problemOf({ ...BEFORE, agent: { version: '9.0.0' } }), `${FILE}: /agent/version: 9.0.0 is not published (agents/9.0.0/agent.yaml)`);
  const { agent: _a, ...noAgent } = BEFORE;
  assert.is(problemOf(noAgent), `${FILE}: /agent: the agent pin may not be removed in a promotion`);
});

test('the floor bounds every version a changed group names, compared as versions', () => {
  assert.is(problemOf({ ...BEFORE, apps: { shop: '1.0.0', billing: '2.0.0' } }, { shop: '1.1.0' }), `${FILE}: /apps/shop: 1.0.0 is below the promotion floor 1.1.0`);
  assert.is(problemOf({ ...BEFORE, apps: { shop: '1.2.0', billing: '2.0.0' } }, { shop: '1.1.0' }), null);
  assert.is(problemOf({ ...BEFORE, apps: { shop: '1.1.0', billing: '2.0.0' } }, { shop: '1.1.0' }), null, 'the floor itself is allowed');
  // 1.10.0 > 1.9.0 as versions, though not as text.
  const ten: Published = { ...PUBLISHED, release: () => true };
  assert.is(groupChangeProblem({ file: FILE, before: BEFORE, after: { ...BEFORE, apps: { shop: '1.10.0', billing: '2.0.0' } } }, ten, { shop: '1.9.0' }), null);
  // A version already below a floor raised since is not carried along by a promotion of another app.
  assert.match(problemOf({ ...BEFORE, apps: { shop: '1.1.0', billing: '2.0.0' }, rollout: [] }, { billing: '2.1.0' })!, /\/apps\/billing: 2\.0\.0 is below the promotion floor 2\.1\.0/);
});

test.run();
