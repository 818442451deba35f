// Issue 16 point 4, over real HTTP on either store (DUCK_TEST_STORE=postgres runs it on PostgreSQL):
// agents report the announcements in force and those acknowledged; GET /api/v1/announcements counts,
// per id, the nodes that have it in force and the nodes that acknowledged it.
import * as assert from 'uvu/assert';
import type { AnnouncementCount } from '../../controller/src/announcement-counts.js';
import { announcementCountsOf, buildReport, controllerSuite, enrollAgent, postReport, reportAs } from '../helpers/controller.js';

const test = controllerSuite('controller announcements', { each: true });

const EOL = { id: 'shop-eol', title: 'shop 1.x reaches its end of life', severity: 'critical' } as const;
const MAINT = { id: 'registry-maint', title: 'registry maintenance on Saturday', severity: 'warning' } as const;

test('GET /api/v1/announcements counts per id the nodes that see it and the nodes that acknowledged it', async ({ ctl }) => {
  await reportAs(ctl, 'n-1', { announcements: [EOL, MAINT], acknowledged: ['shop-eol'] });
  await reportAs(ctl, 'n-2', { announcements: [EOL, MAINT], acknowledged: ['shop-eol', 'registry-maint'] });
  await reportAs(ctl, 'n-3', { announcements: [EOL] });
  await reportAs(ctl, 'n-4', {});
  // An agent from before acknowledgements sends the id alone: it counts, with no title of its own.
  await reportAs(ctl, 'n-5', { announcements: ['registry-maint', 'old-only'] });
  const announcements = await announcementCountsOf(ctl);
  assert.equal(announcements, [
    { id: 'old-only', title: null, severity: null, seen: 1, acknowledged: 0 },
    { id: 'registry-maint', title: MAINT.title, severity: 'warning', seen: 3, acknowledged: 1 },
    { id: 'shop-eol', title: EOL.title, severity: 'critical', seen: 3, acknowledged: 2 },
  ]);
});

test("each node counts once, as its latest report says: an acknowledgement arrives, a notice leaves the node's reports", async ({ ctl }) => {
  await reportAs(ctl, 'n-1', { announcements: [EOL, EOL, MAINT] });
  assert.equal((await announcementCountsOf(ctl)).map((a) => [a.id, a.seen, a.acknowledged]), [['registry-maint', 1, 0], ['shop-eol', 1, 0]]);
  await reportAs(ctl, 'n-1', { announcements: [EOL], acknowledged: ['shop-eol'] });
  assert.equal((await announcementCountsOf(ctl)).map((a) => [a.id, a.seen, a.acknowledged]), [['shop-eol', 1, 1]]);
});

test('the read-only token reads the counts; no token is refused', async ({ ctl }) => {
  await reportAs(ctl, 'n-1', { announcements: [EOL], acknowledged: ['shop-eol'] });
  const read = await fetch(`${ctl.url}/api/v1/announcements`, { headers: { authorization: `Bearer ${ctl.readToken}` } });
  assert.is(read.status, 200);
  assert.is(((await read.json()) as { announcements: AnnouncementCount[] }).announcements[0]?.acknowledged, 1);
  const anonymous = await fetch(`${ctl.url}/api/v1/announcements`);
  assert.is(anonymous.status, 401);
});

test('a malformed announcement in a report is refused naming its field', async ({ ctl }) => {
  const token = await enrollAgent(ctl, 'bad-1');
  const body = buildReport('bad-1', { announcements: [{ ...EOL, severity: 'urgent' as never }] });
  const res = await postReport(ctl, token, body);
  assert.is(res.status, 400);
  assert.match(await res.text(), /status\/announcements\/0/);
});

test.run();
