// The PostgreSQL schema, versioned in the repository: controller/migrations/NNN-name.sql, applied in
// order, each in its own transaction with its row in schema_migrations. Several controllers may
// start at once on one database: the run holds a session advisory lock, so one applies what is
// missing and the others, let in after it, find nothing left to do.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { packageRoot } from '../package-root.js';

/** hashtext() of this names the lock; any process migrating a Duck database takes the same one. */
const LOCK_NAME = 'duck-controller: schema migrations';
const FILE_NAME = /^(\d{3})-([a-z0-9-]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function migrationsDir(fromUrl: string = import.meta.url): string {
  return join(packageRoot(fromUrl), 'controller', 'migrations');
}

/** The migrations in version order; a file whose name does not fit NNN-name.sql, or a version twice, is an error naming it. */
export async function readMigrations(dir: string = migrationsDir()): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const file of (await readdir(dir)).sort()) {
    const match = FILE_NAME.exec(file);
    if (!match) throw new Error(`${join(dir, file)}: a migration is named NNN-name.sql (lower case, digits, dashes)`);
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) throw new Error(`${join(dir, file)}: version ${match[1]} is there twice`);
    migrations.push({ version, name: match[2]!, sql: await readFile(join(dir, file), 'utf8') });
  }
  return migrations;
}

export interface MigrationRun {
  /** The migrations this run applied, as `NNN-name`. */
  applied: string[];
  /** The schema's version after the run. */
  version: number;
}

/** Applies the migrations the database lacks, under the advisory lock; refuses a schema newer than these. */
export async function migrate(client: pg.ClientBase, migrations: readonly Migration[]): Promise<MigrationRun> {
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [LOCK_NAME]);
  try {
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const known = Math.max(0, ...migrations.map((m) => m.version));
    const newest = Math.max(0, ...done);
    if (newest > known) {
      throw new Error(`the database schema is at version ${newest}, newer than this controller knows (${known}): run a newer duck-controller`);
    }
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      const label = `${String(m.version).padStart(3, '0')}-${m.name}`;
      try {
        await client.query('BEGIN');
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`migration ${label}.sql failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(label);
    }
    return { applied, version: Math.max(newest, known) };
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [LOCK_NAME]).catch(() => undefined);
  }
}
