import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { defaultMigrationsDir, loadMigrations, migrate, type MigrationResult } from './migrations';

/** The longest a statement waits synchronously for a lock held by another connection. */
export const BUSY_TIMEOUT_MS = 5;

export type DatabaseOptions = Readonly<{
  file: string;
  /** SQLite `synchronous`: `normal` survives a process crash, `full` also a power loss (in WAL mode). */
  sync: 'normal' | 'full';
  migrationsDir?: string;
}>;

/**
 * Opens (creating folder and file if missing) the SQLite database in WAL mode and brings its
 * schema up to date. The folder and file are created readable by the server's user only. While
 * another connection holds the write lock, a migration fails fast with SQLITE_BUSY (nothing is
 * left open): the server retries it with `retryWhileLocked`.
 */
export function openDatabase(options: DatabaseOptions): { db: Database.Database; migrations: MigrationResult } {
  fs.mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true, mode: 0o700 });
  const db = new Database(options.file);
  try {
    fs.chmodSync(options.file, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.sync === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = ON');
    // Deleted rows (an erased customer, expired sessions) are overwritten with zeros, not left
    // readable in free pages. The chat's own writes are inserts and same-size updates, which free
    // nothing: they pay nothing for it (BENCHMARKS.md, "Erasing a customer").
    db.pragma('secure_delete = ON');
    // busy_timeout is a synchronous wait, which would freeze the event loop while another process
    // (an operator's sqlite3 shell) holds the write lock: wait a few ms at most, and let the callers
    // retry asynchronously (group-commit.ts, lock-conflict.ts).
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const migrations = migrate(db, loadMigrations(options.migrationsDir ?? defaultMigrationsDir()));
    return { db, migrations };
  } catch (err) {
    db.close();
    throw err;
  }
}
