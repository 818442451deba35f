// The FleetStore contract (test/helpers/fleet-store-contract.ts) against both stores: the embedded
// store in a temp directory, and PostgreSQL in a database made for this run and dropped after,
// emptied between tests (a CREATE DATABASE per test costs seconds on a loaded machine). Without a
// PostgreSQL server its half skips with a note, unless CI=true.
import { EmbeddedFleetStore } from '../../controller/src/store/embedded-fleet-store.js';
import { PgFleetStore } from '../../controller/src/store/pg-fleet-store.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { fleetStoreContract } from '../helpers/fleet-store-contract.js';
import { createTestDatabase, postgresMissing, queryDatabase, type TestDatabase } from '../helpers/postgres.js';

fleetStoreContract({
  name: 'embedded',
  async place() {
    const dir = await makeTempDir('duck-store-contract-');
    return { open: (opts) => EmbeddedFleetStore.open(dir, opts), dispose: () => removeTempDir(dir) };
  },
});

/** Every table but the migrations' emptied, and the rows the first migration seeds put back. */
async function emptyStore(url: string): Promise<void> {
  const tables = await queryDatabase<{ name: string }>(url, "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'");
  await queryDatabase(url, `TRUNCATE ${tables.map((t) => `"${t.name}"`).join(', ')} RESTART IDENTITY`);
  await queryDatabase(url, "INSERT INTO documents (name, body) VALUES ('recent-failures', '[]')");
}

let database: TestDatabase | null = null;
fleetStoreContract(
  {
    name: 'postgres',
    async place() {
      const db = (database ??= await createTestDatabase('duck_contract'));
      return { open: (opts) => PgFleetStore.open(db.url, opts), dispose: () => emptyStore(db.url) };
    },
    done: async () => database?.drop(),
  },
  await postgresMissing(),
);
