// The FleetStore contract (test/helpers/fleet-store-contract.ts) against both stores: the embedded
// lowdb file in a temp directory, and PostgreSQL in a database made for each test and dropped
// after. Without a PostgreSQL server its half skips with a note, unless CI=true.
import { LowdbFleetStore } from '../../controller/src/store/lowdb-fleet-store.js';
import { PgFleetStore } from '../../controller/src/store/pg-fleet-store.js';
import { makeTempDir, removeTempDir } from '../../examples/harness/tmp.js';
import { fleetStoreContract } from '../helpers/fleet-store-contract.js';
import { createTestDatabase, postgresMissing } from '../helpers/postgres.js';

fleetStoreContract({
  name: 'lowdb',
  async place() {
    const dir = await makeTempDir('duck-store-contract-');
    return { open: (opts) => LowdbFleetStore.open(dir, opts), dispose: () => removeTempDir(dir) };
  },
});

fleetStoreContract(
  {
    name: 'postgres',
    async place() {
      const db = await createTestDatabase('duck_contract');
      return { open: (opts) => PgFleetStore.open(db.url, opts), dispose: () => db.drop() };
    },
  },
  await postgresMissing(),
);
