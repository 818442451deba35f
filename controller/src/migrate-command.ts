// `duck-controller migrate --store postgres://…`: brings a PostgreSQL database's schema up to this
// controller's version and says what it applied. `serve` does the same when it starts; this is for
// a pipeline that migrates before it rolls controllers out, or an operator checking a database.
import { defineCommand } from 'citty';
import pg from 'pg';
import { checkStoreUrl } from './store/open-store.js';
import { migrate, readMigrations } from './store/pg-migrations.js';
import { redactUrl } from './store/pg-rows.js';

export default defineCommand({
  meta: { name: 'migrate', description: 'Create or update the PostgreSQL schema of a --store database' },
  args: {
    store: { type: 'string', description: 'The database: postgres://user:password@host:port/database (or DUCK_STORE_URL)' },
  },
  async run({ args }) {
    const spec = args.store || process.env.DUCK_STORE_URL;
    if (!spec) {
      process.stderr.write('duck-controller migrate: the database is missing (--store postgres://… or DUCK_STORE_URL)\n');
      process.exit(2);
    }
    let url: string;
    try {
      url = checkStoreUrl(spec, args.store ? '--store' : 'DUCK_STORE_URL');
    } catch (err) {
      process.stderr.write(`duck-controller migrate: ${(err as Error).message}\n`);
      process.exit(2);
    }
    const client = new pg.Client({ connectionString: url });
    try {
      const migrations = await readMigrations();
      await client.connect();
      const run = await migrate(client, migrations);
      const what = run.applied.length > 0 ? `applied ${run.applied.join(', ')}` : 'already up to date';
      process.stdout.write(`${redactUrl(url)}: schema version ${run.version} (${what})\n`);
    } catch (err) {
      process.stderr.write(`duck-controller migrate: ${redactUrl(url)}: ${(err as Error).message}\n`);
      process.exitCode = 1;
    } finally {
      await client.end().catch(() => undefined);
    }
  },
});
