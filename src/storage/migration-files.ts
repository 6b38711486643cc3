import fs from 'node:fs';
import path from 'node:path';

/** One SQL file of a migrations folder, named `NNN_description.sql`. */
export type Migration = Readonly<{ version: number; name: string; sql: string }>;

/** What a migration run did: the versions it applied now (empty when the database was up to date). */
export type MigrationResult = Readonly<{ applied: number[]; version: number }>;

/**
 * Reads `NNN_*.sql` files in version order; versions must increase, each used once. (A number may
 * be missing: migrations written on branches side by side are numbered in their merge order, and
 * a branch may hold a later one without the one before it.)
 */
export function loadMigrations(dir: string): Migration[] {
  const migrations = fs
    .readdirSync(dir)
    .filter((file) => /^\d+_[\w-]+\.sql$/.test(file))
    .map((file) => ({ version: Number.parseInt(file, 10), name: file, sql: fs.readFileSync(path.join(dir, file), 'utf8') }))
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    const previous = migrations[i - 1]?.version ?? 0;
    if (m.version <= previous) throw new Error(`migration ${m.name}: expected a version above ${previous}`);
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
