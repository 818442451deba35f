// The pure parts of `duck release promote`: rollout specs to absolute steps, and the group-file
// edit that keeps a person's comments, order and formatting.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseYaml } from '../../schemas/index.js';
import { parseRollout, promoteInGroup, setAgentInGroup } from '../../agent/src/release/group-promotion.js';
import { rejection } from '../helpers/rejection.js';

const Rollout = suite('parseRollout');
const NOW = new Date('2026-11-24T02:00:00.123Z');

Rollout('relative times count from now and are written as absolute RFC 3339 times without fractions', () => {
  assert.equal(parseRollout('10%@now,50%@+24h,100%@+3d', NOW), [
    { percent: 10, at: '2026-11-24T02:00:00Z' },
    { percent: 50, at: '2026-11-25T02:00:00Z' },
    { percent: 100, at: '2026-11-27T02:00:00Z' },
  ]);
});

Rollout('absolute times with a zone are kept as given', () => {
  assert.equal(parseRollout('25%@2026-12-01T02:00:00+08:00', NOW), [{ percent: 25, at: '2026-12-01T02:00:00+08:00' }]);
});

Rollout('refuses a step without a zone, over 100%, or earlier than the one before', async () => {
  for (const [spec, words] of [
    ['10%@2026-12-01T02:00:00', /not now, \+<duration>/],
    ['150%@now', /150% is over 100%/],
    ['10%@+2d,50%@+1d', /step 2 .* starts before step 1/],
    ['ten@now', /expected <percent>%@/],
  ] as const) {
    const err = await rejection(Promise.resolve().then(() => parseRollout(spec, NOW)));
    assert.is(err.code, 'usage', spec);
    assert.match(err.message, words);
  }
});

Rollout.run();

const Promote = suite('promoteInGroup');

const GROUP = `# production nodes
apps:
  shop: 1.2.0   # the web shop
  billing: "2.0"
windows:
  - { days: [sat, sun], start: "02:00", duration: 3h }
urgent: true
`;

Promote('changes only the version, keeping the trailing comment, and clears a leftover urgent flag', () => {
  const r = promoteInGroup(GROUP, { app: 'shop', version: '1.3.0', urgent: false });
  assert.is(r.previous, '1.2.0');
  assert.ok(r.urgentCleared);
  assert.is(r.text, GROUP.replace('shop: 1.2.0', 'shop: 1.3.0').replace('urgent: true', 'urgent: false'));
});

Promote('a version that reads as a number stays a string', () => {
  const r = promoteInGroup(GROUP, { app: 'billing', version: '2.10', urgent: true });
  assert.is(parseYaml('group', r.text, 'g.yaml').apps.billing, '2.10');
  assert.not.ok(r.urgentCleared);
});

Promote('adds a new app and a rollout as one flow map per step', () => {
  const rollout = parseRollout('10%@now,100%@+2d', NOW);
  const r = promoteInGroup(GROUP, { app: 'search', version: '0.1.0', rollout, urgent: true });
  assert.is(r.previous, undefined);
  assert.match(r.text, / {2}search: 0\.1\.0\n/);
  assert.match(r.text, /rollout:\n {2}- \{ percent: 10, at: 2026-11-24T02:00:00Z \}\n {2}- \{ percent: 100, at: 2026-11-26T02:00:00Z \}\n/);
  assert.equal(parseYaml('group', r.text, 'g.yaml').rollout, rollout);
});

Promote.run();

const AgentSet = suite('setAgentInGroup');

AgentSet('a flow agent: { version } gets the new version in place, comment and quoting kept', () => {
  const text = 'apps:\n  shop: 1.3.0\nagent: { version: "0.2.0" }   # fleet agent\n';
  const r = setAgentInGroup(text, '0.3.0');
  assert.is(r.previous, '0.2.0');
  assert.is(r.text, 'apps:\n  shop: 1.3.0\nagent: { version: "0.3.0" }   # fleet agent\n');
});

AgentSet('a group without agent gets one, the rest untouched; the result is a valid group', () => {
  const text = '# production\napps:\n  shop: 1.3.0   # the shop\n';
  const r = setAgentInGroup(text, '0.2.0');
  assert.is(r.previous, undefined);
  assert.ok(r.text.startsWith(text));
  assert.equal(parseYaml('group', r.text, 'g.yaml').agent, { version: '0.2.0' });
});

AgentSet.run();
