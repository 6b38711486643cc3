import type pg from 'pg';
import { projectPath } from '../../project-files';
import { latestVersion, loadMigrations, pendingMigrations, type Migration, type MigrationResult } from '../migration-files';
import { quoteIdentifier } from './postgres-connection';
import { withClient } from './postgres-queries';

/** The project's `migrations/postgres/` folder. */
export const postgresMigrationsDir = (): string => projectPath('migrations', 'postgres');

/**
 * Creates the schema if missing and applies the migrations it lacks, in one transaction, under an
 * advisory lock of that schema: instances starting together on an empty database do not race
 * (one migrates, the others wait for it, then find nothing to do).
 */
export function migratePostgres(pool: pg.Pool, schema: string, migrations: readonly Migration[] = loadMigrations(postgresMigrationsDir())): Promise<MigrationResult> {
  return withClient(pool, async (client) => {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`support-migrations:${schema}`]);
    try {
      await client.query('BEGIN');
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${quoteIdentifier(schema)}.schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${quoteIdentifier(schema)}.schema_migrations`);
      const pending = pendingMigrations(migrations, rows[0]?.v ?? 0);
      for (const migration of pending) {
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${quoteIdentifier(schema)}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      }
      await client.query('COMMIT');
      return { applied: pending.map((m) => m.version), version: latestVersion(migrations) };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`support-migrations:${schema}`]).catch(() => {});
    }
  });
}
