import type Database from 'better-sqlite3';
import type { RetentionBatch, RetentionCursor, RetentionStore } from '../domain/retention';

/** Runs synchronous SQL in the store's write queue (SqliteSessionStore.queueWrite). */
export type QueueWrite = <T>(work: () => T) => Promise<T>;

/**
 * Retention on SQLite. Each batch is one item of the store's write queue: it commits inside the
 * group commit of the live writes queued with it, so it never takes the write lock on its own
 * (nor waits apart from them while another process holds it), and its few hundred deletions add
 * a millisecond or two to that one commit. The cursor is the session's internal key: a pass
 * walks the sessions once, in key order, whatever their number.
 */
export class SqliteRetention implements RetentionStore {
  private readonly sql;
  private readonly deleteEntries: (sessionPk: number, limit: number) => number;

  constructor(
    db: Database.Database,
    private readonly queueWrite: QueueWrite,
  ) {
    this.sql = {
      nextEnded: db.prepare<[number, number], { pk: number }>(
        "SELECT pk FROM sessions WHERE pk >= ? AND state = 'ended' AND ended_at <= ? ORDER BY pk LIMIT 1",
      ),
      deleteSession: db.prepare("DELETE FROM sessions WHERE pk = ? AND state = 'ended'"),
    };
    this.deleteEntries = entriesDeleter(db);
  }

  deleteEnded(endedBefore: Date, from: RetentionCursor, maxRows: number): Promise<RetentionBatch> {
    return this.queueWrite(() => {
      let budget = maxRows;
      let sessions = 0;
      let entries = 0;
      let next = from;
      while (budget > 0) {
        const session = this.sql.nextEnded.get(next, endedBefore.getTime());
        if (!session) return { sessions, entries, next: undefined };
        const deleted = this.deleteEntries(session.pk, budget);
        entries += deleted;
        budget -= deleted;
        next = session.pk;
        if (budget === 0) break; // it may have more entries: the next batch starts with it
        this.sql.deleteSession.run(session.pk);
        sessions++;
        budget--;
        next = session.pk + 1;
      }
      return { sessions, entries, next };
    });
  }
}

/**
 * The one statement that deletes entries: up to `limit` of one session's, oldest first, through
 * the (session_pk, seq) index. Whoever changes the layout of `entries` changes only this.
 */
function entriesDeleter(db: Database.Database): (sessionPk: number, limit: number) => number {
  const statement = db.prepare<[number, number]>(
    'DELETE FROM entries WHERE rowid IN (SELECT rowid FROM entries WHERE session_pk = ? ORDER BY seq LIMIT ?)',
  );
  return (sessionPk, limit) => statement.run(sessionPk, limit).changes;
}
