import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { projectPath } from '../project-files';

/** One SQL file of `migrations/`, named `NNN_description.sql`. */
export type Migration = Readonly<{ version: number; name: string; sql: string }>;

/** What `migrate` did: the versions it applied now (empty when the database was up to date). */
export type MigrationResult = Readonly<{ applied: number[]; version: number }>;

/** The project's `migrations/` folder. */
export const defaultMigrationsDir = (): string => projectPath('migrations');

/** Reads `NNN_*.sql` files in version order; versions must be 1, 2, 3, ... without gaps. */
export function loadMigrations(dir: string): Migration[] {
  const migrations = fs
    .readdirSync(dir)
    .filter((file) => /^\d+_[\w-]+\.sql$/.test(file))
    .map((file) => ({ version: Number.parseInt(file, 10), name: file, sql: fs.readFileSync(path.join(dir, file), 'utf8') }))
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name}: expected version ${i + 1}`);
  });
  return migrations;
}

/**
 * Applies the migrations newer than the database, all in one transaction, recording each in
 * `schema_migrations`. Refuses a database whose version is newer than the code knows.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[]): MigrationResult {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`);
  const current = (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
  const known = migrations.length;
  if (current > known) {
    throw new Error(`database schema version ${current} is newer than this server knows (${known}); upgrade the server`);
  }
  const pending = migrations.filter((m) => m.version > current);
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const m of pending) {
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
    }
  }).immediate();
  return { applied: pending.map((m) => m.version), version: Math.max(current, known) };
}
