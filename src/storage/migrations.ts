import type Database from 'better-sqlite3';
import { projectPath } from '../project-files';
import { latestVersion, pendingMigrations, type Migration, type MigrationResult } from './migration-files';

export { loadMigrations } from './migration-files';
export type { Migration, MigrationResult } from './migration-files';

/** The project's `migrations/sqlite/` folder. */
export const defaultMigrationsDir = (): string => projectPath('migrations', 'sqlite');

/**
 * Applies the migrations newer than the database, all in one transaction, recording each in
 * `schema_migrations`. Refuses a database whose version is newer than the code knows.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[]): MigrationResult {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`);
  const current = (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
  const pending = pendingMigrations(migrations, current);
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const m of pending) {
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
    }
  }).immediate();
  return { applied: pending.map((m) => m.version), version: Math.max(current, latestVersion(migrations)) };
}
