import fs from 'node:fs';
import path from 'node:path';

/** One SQL file of a migrations folder, named `NNN_description.sql`. */
export type Migration = Readonly<{ version: number; name: string; sql: string }>;

/** What a migration run did: the versions it applied now (empty when the database was up to date). */
export type MigrationResult = Readonly<{ applied: number[]; version: number }>;

/** Reads `NNN_*.sql` files in version order; versions must be 1, 2, 3, ... without gaps (a missing file would skip a step). */
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

/** The versions to apply over a database at `current`; refuses one newer than the code knows. */
export function pendingMigrations(migrations: readonly Migration[], current: number): Migration[] {
  const latest = latestVersion(migrations);
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this server knows (${latest}); upgrade the server`);
  }
  return migrations.filter((m) => m.version > current);
}

/** The version a database has once every migration is applied. */
export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.at(-1)?.version ?? 0;
}
