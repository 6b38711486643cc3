import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isLockConflict, sqliteCode } from './lock-conflict';

/** The server that holds a database, as it wrote itself into the lock file. */
export type LockHolder = Readonly<{ pid: number; host: string; startedAt: string }>;

/** This process's hold on a database; `release` (after the database is closed) is safe to call twice. */
export type ServerLock = Readonly<{ file: string; release: () => void }>;

/** Start-up refused: another live server holds the database (the server exits with code 2). */
export class DatabaseInUseError extends Error {
  constructor(
    readonly dbFile: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(`the database ${dbFile} is in use by another server (${describe(holder)}); stop that server first, or pass another --db`);
    this.name = 'DatabaseInUseError';
  }
}

/** How long a refused start keeps trying to read who holds the lock (it may be writing its name just then). */
const HOLDER_READ_WAIT_MS = 500;

type Holder = LockHolder & Readonly<{ token: string }>;

/**
 * Makes this process the only server on `dbFile` until `release`. The lock is `<db>.lock`, a
 * small SQLite database beside it on which the holder keeps a write transaction open (BEGIN
 * IMMEDIATE, in rollback-journal mode): a second opener, in another process or this one, gets
 * SQLITE_BUSY at once, yet can still read the holder's pid, host and start time, which the
 * holder committed just before. SQLite's POSIX locks are released by the kernel when a process
 * dies, even by `kill -9`, so there is never a stale lock to clear by hand.
 * Throws DatabaseInUseError when another holds it; call before the database is opened.
 */
export async function acquireServerLock(dbFile: string): Promise<ServerLock> {
  fs.mkdirSync(path.dirname(path.resolve(dbFile)), { recursive: true, mode: 0o700 });
  const file = lockFileOf(dbFile);
  const db = openLockFile(file);
  const me: Holder = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), token: randomUUID() };
  const giveUpAt = performance.now() + HOLDER_READ_WAIT_MS;
  try {
    for (;;) {
      const outcome = tryHold(db, me);
      if (outcome === 'held') return { file, release: () => void (db.open && db.close()) }; // closing ends the hold
      // Unknown, or our own name: the holder is between taking the lock and writing itself in.
      const known = outcome !== undefined && outcome.token !== me.token;
      if (known || performance.now() > giveUpAt) throw new DatabaseInUseError(path.resolve(dbFile), known ? outcome : undefined);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } catch (error) {
    db.close();
    throw error;
  }
}

/** `<db>.lock` beside the real file, so that two paths to one database (a symlink, `..`) share one lock. */
function lockFileOf(dbFile: string): string {
  const resolved = path.resolve(dbFile);
  const inRealDir = path.join(fs.realpathSync(path.dirname(resolved)), path.basename(resolved));
  return `${fs.existsSync(inRealDir) ? fs.realpathSync(inRealDir) : inRealDir}.lock`;
}

function openLockFile(file: string): Database.Database {
  createPrivately(file);
  return new Database(file, { timeout: 0 }); // a held lock is answered at once, never waited for
}

/**
 * Creates the file, readable by the server's user only like the database (SQLite gives its
 * journal the same mode). Never opens an existing one: closing any descriptor of a file drops
 * every POSIX lock this process holds on it, so that a refused second server in this process
 * would free the first one's lock (SQLite's own connections know how to avoid that).
 */
function createPrivately(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  try {
    fs.fchmodSync(fd, 0o600); // whatever the umask
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes `me` in and takes the hold; returns 'held', or else whoever the file names (undefined if
 * it cannot be read now).
 */
function tryHold(db: Database.Database, me: Holder): 'held' | Holder | undefined {
  try {
    db.transaction(() => {
      db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, host TEXT NOT NULL, started_at TEXT NOT NULL, token TEXT NOT NULL)');
      db.exec('DELETE FROM holder');
      db.prepare('INSERT INTO holder (pid, host, started_at, token) VALUES (?, ?, ?, ?)').run(me.pid, me.host, me.startedAt, me.token);
    }).immediate();
    db.exec('BEGIN IMMEDIATE'); // held from here until the connection closes
  } catch (error) {
    if (!isLockConflict(error)) throw error;
    return readHolder(db);
  }
  // Another server may have written itself in between our COMMIT and BEGIN (it is refused now):
  // let go and start again, so that the name in the file is always the holder's.
  if (readHolder(db)?.token === me.token) return 'held';
  db.exec('ROLLBACK');
  return undefined;
}

function readHolder(db: Database.Database): Holder | undefined {
  try {
    return db.prepare<[], Holder>('SELECT pid, host, started_at AS startedAt, token FROM holder').get();
  } catch (error) {
    if (sqliteCode(error) !== undefined) return undefined; // being written (BUSY), or not created yet
    throw error;
  }
}

function describe(holder: LockHolder | undefined): string {
  return holder ? `pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}` : 'which one could not be read';
}
