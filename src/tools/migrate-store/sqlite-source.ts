import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '../../storage/open-database';
import { acquireServerLock, DatabaseInUseError, type ServerLock } from '../../storage/server-lock';
import { MoveRefusedError } from './move-refused';

/** A session row of the SQLite schema (migrations/001_chat.sql), as stored. */
export type SessionRow = Readonly<{
  pk: number;
  id: string;
  customer: string;
  state: 'open' | 'ended';
  created_at: number;
  ended_at: number | null;
  awaiting_since: number | null;
  last_seq: number;
  last_entry_at: number | null;
  history_bytes: number;
  last_activity_at: number;
}>;

/** An entry row of the SQLite schema, as stored. */
export type EntryRow = Readonly<{ session_pk: number; seq: number; date_ms: number; agent: string | null; text: string }>;

/** A participant row (migrations/sqlite/003_admin.sql): an agent who attached to a session. */
export type ParticipantRow = Readonly<{ session_pk: number; agent: string; first_attached_at: number }>;

/** What the source holds, counted in the snapshot that is copied. */
export type SourceCounts = Readonly<{ sessions: number; entries: number; participants: number; attended: number; latestAwaitingSince: number | null }>;

/**
 * The SQLite database of a stopped server, read for a move. `lock` takes the server lock
 * (`<db>.lock`, server-lock.ts) before anything else, so the move is refused while a server runs
 * on the file and no server can start on it until `close`. `open` then opens it as a server would
 * (bringing its schema up to date) and starts one read transaction: counts and rows all come
 * from one snapshot.
 */
export class SqliteSource {
  private db: Database.Database | undefined;

  private constructor(
    readonly file: string,
    private readonly lock: ServerLock,
  ) {}

  /** Takes the server lock of `file`; MoveRefusedError if a live server holds it, or if it is not a support server's database. */
  static async lock(file: string): Promise<SqliteSource> {
    refuseForeignDatabase(file); // before the lock file is created beside it
    try {
      return new SqliteSource(file, await acquireServerLock(file));
    } catch (error) {
      if (!(error instanceof DatabaseInUseError)) throw error;
      const holder = error.holder ? ` (pid ${error.holder.pid} on ${error.holder.host}, started ${error.holder.startedAt})` : '';
      throw new MoveRefusedError(`the database ${error.dbFile} is in use by a running server${holder}; stop it first: only a stopped server's database can be moved`);
    }
  }

  /** Opens the database and starts the snapshot. */
  open(): SourceCounts {
    const db = openDatabase({ file: this.file, sync: 'normal' }).db;
    this.db = db;
    db.exec('BEGIN'); // a read transaction: one snapshot from the first read to close()
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      sessions: count('SELECT count(*) AS n FROM sessions'),
      entries: count('SELECT count(*) AS n FROM entries'),
      participants: count('SELECT count(*) AS n FROM participants'),
      attended: count("SELECT count(*) AS n FROM sessions WHERE state = 'open' AND awaiting_since IS NULL"),
      latestAwaitingSince: (db.prepare("SELECT max(awaiting_since) AS t FROM sessions WHERE state = 'open' AND awaiting_since IS NOT NULL").get() as { t: number | null }).t,
    };
  }

  /** Every session, in order of creation, read as it is iterated. */
  sessions(): IterableIterator<SessionRow> {
    return this.opened()
      .prepare<[], SessionRow>(
        'SELECT pk, id, customer, state, created_at, ended_at, awaiting_since, last_seq, last_entry_at, history_bytes, last_activity_at FROM sessions ORDER BY pk',
      )
      .iterate();
  }

  /** Every entry, session by session in order of creation, each session's in order; read as it is iterated (the index's order: no sort). */
  entries(): IterableIterator<EntryRow> {
    return this.opened().prepare<[], EntryRow>('SELECT session_pk, seq, date_ms, agent, text FROM entries ORDER BY session_pk, seq').iterate();
  }

  /** Every participant, session by session (the primary key's order: no sort). */
  participants(): IterableIterator<ParticipantRow> {
    return this.opened().prepare<[], ParticipantRow>('SELECT session_pk, agent, first_attached_at FROM participants ORDER BY session_pk, agent').iterate();
  }

  /** Closes the database (which ends the snapshot: nothing was written in it), then lets go of the server lock. */
  close(): void {
    try {
      this.db?.close();
    } finally {
      this.lock.release();
    }
  }

  private opened(): Database.Database {
    if (!this.db) throw new Error('the source database is not open');
    return this.db;
  }
}

/**
 * Refuses a file that is not a support server's database (a wrong path to another program's
 * SQLite file), before openDatabase would add the support tables to it. Only reads it.
 */
function refuseForeignDatabase(file: string): void {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('schema_migrations', 'sessions', 'entries')").all();
    if (tables.length < 3) throw new MoveRefusedError(`${path.resolve(file)} is not a support server's database (it has no sessions, entries and schema_migrations tables)`);
  } finally {
    db.close();
  }
}

/** Whether `file` exists as a file (the tool refuses to create a source). */
export function isExistingFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
