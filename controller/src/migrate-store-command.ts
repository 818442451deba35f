// `duck-controller migrate-store --data DIR --store postgres://…`: moves the embedded store's fleet
// (DIR/fleet.json and the log it names, or a format-1 fleet.json alone) into PostgreSQL —
// migrations first, then everything in one transaction — and says what it copied. DIR is only
// read; the diagnostics bundles stay under it, where the controller started with
// `--data DIR --store …` serves them from.
//
// The embedded store takes no lock on DIR, so a controller still serving on it cannot be seen up
// front. What can be seen is its writing: every write appends to the log or renames fleet.json, so
// the directory is checked again just before the commit, and a move from data that changed
// meanwhile rolls back (its copy would miss what came after).
import { join } from 'node:path';
import { defineCommand } from 'citty';
import pg from 'pg';
import { FLEET_FILE, dataVersion, loadFleetDir } from './store/embedded-fleet-store.js';
import type { FleetData } from './store/fleet-data.js';
import { checkStoreUrl } from './store/open-store.js';
import { importFleet, importPlan, type ImportCounts } from './store/pg-import.js';
import { migrate, readMigrations } from './store/pg-migrations.js';
import { redactUrl } from './store/pg-rows.js';

const PREFIX = 'duck-controller migrate-store';

async function readFleet(file: string, dataDir: string): Promise<FleetData> {
  try {
    return (await loadFleetDir(dataDir, { repair: false })).data;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${file}: no such file (is --data the controller's data directory?)`, { cause: err });
    throw err;
  }
}

export class SourceChangedError extends Error {
  override readonly name = 'SourceChangedError';
  constructor(file: string, dataDir: string) {
    super(`${file} changed while it was copied: a controller is still serving on ${dataDir}; stop it, then run migrate-store again (nothing was moved)`);
  }
}

/** Takes the data's version now; the check it answers throws SourceChangedError once the data is another. */
export async function sourceGuard(file: string, dataDir: string): Promise<() => Promise<void>> {
  const before = await dataVersion(dataDir);
  return async () => {
    if ((await dataVersion(dataDir)) !== before) throw new SourceChangedError(file, dataDir);
  };
}

/** A database step's failure, naming the database (without its password). */
function inDatabase<T>(db: string, step: Promise<T>): Promise<T> {
  return step.catch((err: unknown) => {
    throw err instanceof SourceChangedError ? err : new Error(`${db}: ${(err as Error).message}`, { cause: err });
  });
}

export function describeMove(counts: ImportCounts, file: string, to: string, dataDir: string): string {
  const released = counts.released > 0 ? ` (${counts.released} released)` : '';
  return [
    `moved ${file} into ${to}:`,
    `  agents       ${counts.agents}${released}`,
    `  events       ${counts.events}`,
    `  outcome rows ${counts.outcomes}`,
    `  failures     ${counts.failures}`,
    `  alerts       ${counts.alerts}`,
    `  diagnostics  ${counts.diagnostics} (the bundles stay under ${join(dataDir, 'diagnostics')})`,
    `${FLEET_FILE} is left as it was; serve with --data ${dataDir} --store <the same URL> from now on`,
    '',
  ].join('\n');
}

export default defineCommand({
  meta: { name: 'migrate-store', description: 'Move the embedded store (fleet.json under --data) into an empty PostgreSQL --store database' },
  args: {
    data: { type: 'string', description: 'The data directory of the controller on the embedded store (stop it first)', required: true },
    store: { type: 'string', description: 'The database: postgres://user:password@host:port/database (or DUCK_STORE_URL)' },
  },
  async run({ args }) {
    const spec = args.store || process.env.DUCK_STORE_URL;
    if (!spec) {
      process.stderr.write(`${PREFIX}: the database is missing (--store postgres://… or DUCK_STORE_URL)\n`);
      process.exit(2);
    }
    let url: string;
    try {
      url = checkStoreUrl(spec, args.store ? '--store' : 'DUCK_STORE_URL');
    } catch (err) {
      process.stderr.write(`${PREFIX}: ${(err as Error).message}\n`);
      process.exit(2);
    }
    const file = join(args.data, FLEET_FILE);
    const db = redactUrl(url);
    const client = new pg.Client({ connectionString: url });
    try {
      const unchanged = await sourceGuard(file, args.data);
      const plan = importPlan((await readFleet(file, args.data)).file);
      await inDatabase(db, client.connect());
      await inDatabase(db, readMigrations().then((migrations) => migrate(client, migrations)));
      await inDatabase(db, importFleet(client, plan, unchanged));
      process.stdout.write(describeMove(plan.counts, file, redactUrl(url), args.data));
    } catch (err) {
      process.stderr.write(`${PREFIX}: ${(err as Error).message}\n`);
      process.exitCode = 1;
    } finally {
      await client.end().catch(() => undefined);
    }
  },
});
