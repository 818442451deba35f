// A real PostgreSQL server for the tests that need one: DUCK_TEST_PG_URL names a role that may
// create databases (.ci/run makes `duck` on 127.0.0.1). Each user of it gets a database of its
// own, made with a unique name and dropped after. Outside CI, no server answering means those
// tests skip with a note, as the Docker tier does; with CI=true it is a failure.
import { randomBytes } from 'node:crypto';
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

/** A fresh database of the test role; drop() removes it, closing what is still connected. */
export async function createTestDatabase(prefix = 'duck_test'): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
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
