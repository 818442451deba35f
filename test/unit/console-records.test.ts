// The pure parts of the console's backups and history routes (issue 16 point 2): the backups per
// app, newest first; the history page's query checked, newest first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backupsByApp, type BackupRow } from '../../agent/src/console/routes-backups.js';
import { HISTORY_PAGE_MAX, historyPage } from '../../agent/src/console/routes-history.js';

const backup = (id: string, app: string, createdAt: string): BackupRow => ({ id, app, version: '1.0.0', createdAt, bytes: 10, reason: 'on demand' });

test('backups: every installed app, even with none, then apps only backups remember; newest first in each', () => {
  const view = {
    dir: '/var/lib/duck/backups',
    apps: ['web', 'api'],
    backups: [backup('b1', 'web', '2026-12-01T01:00:00.000Z'), backup('b2', 'web', '2026-12-01T02:00:00.000Z'), backup('b3', 'gone', '2026-11-30T00:00:00.000Z')],
    broken: [],
    partial: { count: 0, bytes: 0 },
  };
  assert.equal(
    backupsByApp(view).map((a) => [a.app, a.backups.map((b) => b.id)]),
    [
      ['api', []],
      ['web', ['b2', 'b1']],
      ['gone', ['b3']],
    ],
  );
});

test('history: newest first, filtered by app, at most limit; a bad limit names the field', () => {
  const entries = [1, 2, 3, 4].map((n) => ({ id: `h${n}`, app: n % 2 ? 'web' : 'api' }));
  assert.equal(historyPage(entries, new URLSearchParams()).history.map((h) => h.id), ['h4', 'h3', 'h2', 'h1']);
  assert.equal(historyPage(entries, new URLSearchParams('app=web&limit=1')), { history: [{ id: 'h3', app: 'web' }], total: 2 });
  for (const bad of ['0', '-1', '1.5', 'ten', String(HISTORY_PAGE_MAX + 1)]) {
    assert.throws(() => historyPage(entries, new URLSearchParams(`limit=${bad}`)), (err: Error & { data?: { field?: string } }) => err.data?.field === 'limit' && /limit must be a whole number/.test(err.message));
  }
});

test.run();
