import type Database from 'better-sqlite3';
import type { RetentionBatch, RetentionCursor, RetentionStore } from '../domain/retention';
import { deleteOldestEntriesOfSession } from './sqlite/delete-entries';
import type { StoreHousekeeping } from './sqlite/store-housekeeping';

/**
 * Retention on SQLite. Each batch is one item of the store's write queue: it commits inside the
 * group commit of the live writes queued with it, so it never takes the write lock on its own
 * (nor waits apart from them while another process holds it), and its few hundred deletions add
 * a millisecond or two to that one commit. The cursor is the session's internal key: a pass
 * walks the sessions once, in key order, whatever their number.
 */
export class SqliteRetention implements RetentionStore {
  private readonly sql;

  constructor(
    private readonly db: Database.Database,
    private readonly housekeeping: StoreHousekeeping,
  ) {
    this.sql = {
      nextEnded: db.prepare<[number, number], { pk: number; id: string }>(
        "SELECT pk, id FROM sessions WHERE pk >= ? AND state = 'ended' AND ended_at <= ? ORDER BY pk LIMIT 1",
      ),
      deleteParticipants: db.prepare<[number]>('DELETE FROM participants WHERE session_pk = ?'),
      deleteSession: db.prepare<[number]>("DELETE FROM sessions WHERE pk = ? AND state = 'ended'"),
    };
  }

  deleteEnded(endedBefore: Date, from: RetentionCursor, maxRows: number): Promise<RetentionBatch> {
    return this.housekeeping.deleteThroughWriteQueue<RetentionBatch>(() => {
      const deletedSessionIds: string[] = [];
      let budget = maxRows;
      let sessions = 0;
      let entries = 0;
      let next = from;
      while (budget > 0) {
        const session = this.sql.nextEnded.get(next, endedBefore.getTime());
        if (!session) return { deletedSessionIds, result: { sessions, entries, next: undefined } };
        const deleted = deleteOldestEntriesOfSession(this.db, session.pk, budget);
        entries += deleted;
        budget -= deleted;
        next = session.pk;
        if (budget === 0) break; // it may have more entries: the next batch starts with it
        this.sql.deleteParticipants.run(session.pk);
        this.sql.deleteSession.run(session.pk);
        deletedSessionIds.push(session.id);
        sessions++;
        budget--;
        next = session.pk + 1;
      }
      return { deletedSessionIds, result: { sessions, entries, next } };
    });
  }
}
