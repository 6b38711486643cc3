import fs from 'node:fs';
import type Database from 'better-sqlite3';

/**
 * The bytes the database takes on disk: its file and its write-ahead log, which holds recent
 * commits until a checkpoint copies them into the file (and may stay large after a burst).
 */
export function sqliteDatabaseBytes(db: Database.Database): number {
  return fileBytes(db.name) + fileBytes(`${db.name}-wal`);
}

function fileBytes(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0; // no WAL between connections
    throw error;
  }
}
