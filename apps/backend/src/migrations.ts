// The schema, as numbered migrations applied once each, in order, at start-up.
// Applied versions are recorded in schema_migrations; a transaction-scoped advisory lock
// makes concurrent start-ups (several replicas) take turns instead of racing.
// To change the schema, append a migration; never edit one that has shipped.

import type { Pool } from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'create todos',
    sql: `
      CREATE TABLE IF NOT EXISTS todos (
        id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        owner_id   text        NOT NULL CHECK (owner_id ~ '^[A-Za-z0-9_-]{1,64}$'),
        title      text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
        completed  boolean     NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX IF NOT EXISTS todos_owner_id_idx ON todos (owner_id, id);
    `,
  },
];

// Any constant works; it only has to be the same for every replica of this app.
const LOCK_KEY = 7_210_402_311;

/** Applies the migrations not yet recorded; returns the versions it applied. */
export async function migrate(pool: Pool, list: readonly Migration[] = migrations): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const done = new Set(
      (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
    );
    const applied: number[] = [];
    for (const migration of [...list].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
