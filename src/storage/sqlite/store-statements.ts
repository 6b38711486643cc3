import type Database from 'better-sqlite3';
import type { Author, Entry } from '../../domain/entry';

export type SessionRow = { pk: number; id: string; customer: string; state: 'open' | 'ended'; last_seq: number; last_entry_at: number | null; history_bytes: number };
export type EntryRow = { seq: number; date_ms: number; agent: string | null; text: string };
/** A session's unfolded entries, summed (nulls when it has none). */
export type TailCounters = { last_seq: number | null; last_entry_at: number | null; bytes: number };

/** Which entries of which session a history page reads. */
export type HistoryPageParams = { id: string; after: number; upTo: number; limit: number };

/** The tail of the log (see migrations/sqlite/002_entry_log.sql): entries not yet folded into the index. */
const TAIL = 'id > (SELECT folded_up_to FROM entry_log)';

/** Every statement of the SQLite store (typed by hand: declaration files cannot name the inferred types). */
export interface StoreStatements {
  countOpen: Database.Statement<[string], { n: number }>;
  insertSession: Database.Statement;
  sessionById: Database.Statement<[string], SessionRow>;
  tailCounters: Database.Statement<[number], TailCounters>;
  tailSessions: Database.Statement<[], number>;
  historyPage: Database.Statement<[HistoryPageParams], EntryRow>;
  insertEntry: Database.Statement<[number, number, number, number, string | null, string, number]>;
  endSession: Database.Statement;
  nextAwaiting: Database.Statement<[], { pk: number; id: string }>;
  markAttended: Database.Statement;
  addParticipant: Database.Statement;
  markAwaiting: Database.Statement;
  customerPresent: Database.Statement;
  lastActivity: Database.Statement<[number], { t: number }>;
  idle: Database.Statement<[number, number], { id: string }>;
  maxAwaitingSince: Database.Statement<[], { t: number | null }>;
  requeueAttended: Database.Statement;
}

/** Every statement of the SQLite store, prepared once. */
export function prepareStoreStatements(db: Database.Database): StoreStatements {
  const sessionColumns = 'pk, id, customer, state, last_seq, last_entry_at, history_bytes';
  return {
    countOpen: db.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM sessions WHERE customer = ? AND state = 'open'"),
    insertSession: db.prepare(
      "INSERT INTO sessions (id, customer, state, created_at, awaiting_since, last_activity_at) VALUES (?, ?, 'open', ?, ?, ?)",
    ),
    sessionById: db.prepare<[string], SessionRow>(`SELECT ${sessionColumns} FROM sessions WHERE id = ?`),
    tailCounters: db.prepare<[number], TailCounters>(
      `SELECT MAX(seq) AS last_seq, MAX(date_ms) AS last_entry_at, IFNULL(SUM(encoded_bytes), 0) AS bytes FROM entries WHERE ${TAIL} AND session_pk = ?`,
    ),
    tailSessions: db.prepare<[], number>(`SELECT DISTINCT session_pk FROM entries WHERE ${TAIL}`).pluck(),
    // The folded part through the index, then the session's rows of the tail: one statement, so one
    // snapshot, and the two parts never overlap. Each part comes out in seq order; SQLite merges them.
    historyPage: db.prepare<[HistoryPageParams], EntryRow>(`
      WITH s AS (SELECT pk FROM sessions WHERE id = @id)
      SELECT i.seq, e.date_ms, e.agent, e.text FROM entry_index i JOIN entries e ON e.id = i.entry_id
        WHERE i.session_pk = (SELECT pk FROM s) AND i.seq > @after AND i.seq <= @upTo
      UNION ALL
      SELECT seq, date_ms, agent, text FROM entries
        WHERE ${TAIL} AND session_pk = (SELECT pk FROM s) AND seq > @after AND seq <= @upTo
      ORDER BY 1 LIMIT @limit`),
    insertEntry: db.prepare<[number, number, number, number, string | null, string, number]>(
      'INSERT INTO entries (id, session_pk, seq, date_ms, agent, text, encoded_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    endSession: db.prepare("UPDATE sessions SET state = 'ended', ended_at = ?, awaiting_since = NULL WHERE pk = ?"),
    nextAwaiting: db.prepare<[], { pk: number; id: string }>(
      "SELECT pk, id FROM sessions WHERE state = 'open' AND awaiting_since IS NOT NULL ORDER BY awaiting_since, pk LIMIT 1",
    ),
    markAttended: db.prepare("UPDATE sessions SET awaiting_since = NULL WHERE id = ? AND state = 'open'"),
    addParticipant: db.prepare('INSERT OR IGNORE INTO participants (session_pk, agent, first_attached_at) VALUES (?, ?, ?)'),
    markAwaiting: db.prepare("UPDATE sessions SET awaiting_since = ? WHERE id = ? AND state = 'open'"),
    customerPresent: db.prepare(
      "UPDATE sessions SET last_activity_at = MAX(last_activity_at, ?) WHERE id = ? AND state = 'open'",
    ),
    lastActivity: db.prepare<[number], { t: number }>('SELECT last_activity_at AS t FROM sessions WHERE pk = ?'),
    // A scan of the open sessions (sessions_open_by_customer covers state = 'open'), once per sweep.
    // Their last_entry_at is as of the last fold: the store folds before it sweeps.
    idle: db.prepare<[number, number], { id: string }>(
      "SELECT id FROM sessions WHERE state = 'open' AND MAX(last_activity_at, IFNULL(last_entry_at, 0)) <= ? LIMIT ?",
    ),
    // Served by the sessions_awaiting index (its WHERE clause is repeated so that it applies).
    maxAwaitingSince: db.prepare<[], { t: number | null }>(
      "SELECT MAX(awaiting_since) AS t FROM sessions WHERE state = 'open' AND awaiting_since IS NOT NULL",
    ),
    requeueAttended: db.prepare("UPDATE sessions SET awaiting_since = ? WHERE state = 'open' AND awaiting_since IS NULL"),
  };
}

/** An entry as the domain sees it. */
export function entryFromRow(row: EntryRow): Entry {
  const author: Author = row.agent === null ? { kind: 'customer' } : { kind: 'agent', agentId: row.agent };
  return { seq: row.seq, date: new Date(row.date_ms), author, text: row.text };
}
