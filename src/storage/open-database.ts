import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { defaultMigrationsDir, loadMigrations, migrate, type MigrationResult } from './migrations';

export type DatabaseOptions = Readonly<{
  file: string;
  /** SQLite `synchronous`: `normal` survives a process crash, `full` also a power loss (in WAL mode). */
  sync: 'normal' | 'full';
  migrationsDir?: string;
}>;

/**
 * Opens (creating folder and file if missing) the SQLite database in WAL mode and brings its
 * schema up to date. The folder and file are created readable by the server's user only.
 */
export function openDatabase(options: DatabaseOptions): { db: Database.Database; migrations: MigrationResult } {
  fs.mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true, mode: 0o700 });
  const db = new Database(options.file);
  try {
    fs.chmodSync(options.file, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.sync === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    // A second process on the same file (an operator's sqlite3 shell) waits instead of failing at once.
    db.pragma('busy_timeout = 5000');
    const migrations = migrate(db, loadMigrations(options.migrationsDir ?? defaultMigrationsDir()));
    return { db, migrations };
  } catch (err) {
    db.close();
    throw err;
  }
}
