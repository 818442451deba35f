// A real PostgreSQL server for the tests that need one: DUCK_TEST_PG_URL names a role that may
// create databases (.ci/run makes `duck` on 127.0.0.1). Each user of it gets a database of its
// own, made with a unique name and dropped after. Outside CI, no server answering means those
// tests skip with a note, as the Docker tier does; with CI=true it is a failure.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_PG_URL = process.env.DUCK_TEST_PG_URL ?? 'postgres://duck:duck@127.0.0.1:5432/postgres';
const CI = process.env.CI === 'true' || process.env.CI === '1';

export interface TestDatabase {
  /** A URL with the same role, naming the new database. */
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

async function withAdmin<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

let answer: Promise<string | null> | undefined;

/**
 * Null when a server answers at TEST_PG_URL; otherwise why not. Under CI a missing server throws,
 * so the suite fails instead of skipping.
 */
export function postgresMissing(): Promise<string | null> {
  answer ??= withAdmin((c) => c.query('SELECT 1')).then(
    () => null,
    (err: unknown) => {
      const why = `no PostgreSQL server answers at ${TEST_PG_URL.replace(/:[^:@/]*@/, ':***@')} (${(err as Error).message})`;
      if (CI) throw new Error(`${why}; with CI=true the PostgreSQL tests never skip (.ci/run starts the server)`);
      return why;
    },
  );
  return answer;
}

/** A fresh database of the test role (or the one `name` made before); drop() removes it, closing what is still connected. */
export async function createTestDatabase(prefix = 'duck_test', name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`): Promise<TestDatabase> {
  await withAdmin(async (c) => {
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await c.query(`CREATE DATABASE ${name}`);
  });
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => dropDatabase(name) };
}

async function dropDatabase(name: string): Promise<void> {
  await withAdmin(async (c) => {
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } catch (err) {
      // FORCE may not end an autovacuum worker without pg_signal_backend (.ci/run grants it); a
      // plain DROP waits for one to leave.
      if ((err as { code?: string }).code !== '42501') throw err;
      await c.query(`DROP DATABASE IF EXISTS ${name}`);
    }
  });
}

const keptForProcess = new Set<string>();
let dropOnExit = false;

/**
 * The database that stands for a data directory a test owns: the same one for every controller
 * started on that directory, as the lowdb file would be, dropped when the test process ends.
 */
export async function databaseForDataDir(dataDir: string): Promise<TestDatabase> {
  const name = `duck_dir_${createHash('sha256').update(`${process.pid}:${dataDir}`).digest('hex').slice(0, 16)}`;
  const db = await createTestDatabase('duck_dir', name);
  keptForProcess.add(name);
  if (!dropOnExit) {
    dropOnExit = true;
    process.once('beforeExit', () => {
      void Promise.allSettled([...keptForProcess].map((n) => dropDatabase(n)));
      keptForProcess.clear();
    });
  }
  return db;
}

/** Runs one query on a test database (for what a test checks beside the store). */
export async function queryDatabase<R extends pg.QueryResultRow>(url: string, text: string, values?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}
