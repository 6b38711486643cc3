import type Database from 'better-sqlite3';
import { ChatError } from '../domain/chat-error';
import type { CustomerErasure, ListPosition, SessionAdministration, SessionFilter, SessionPage, SessionSummary } from '../domain/session-administration';
import { MAX_LOCK_WAIT_MS } from './group-commit';
import { isLockConflict, LockBackoff } from './lock-conflict';
import { listingQuery, SUMMARY_COLUMNS, toPage, toSummary, type SummaryRow } from './session-listing';
import { deleteEntriesOfSessions } from './sqlite/delete-entries';
import type { StoreHousekeeping } from './sqlite/store-housekeeping';

type ErasedSession = { pk: number; id: string; state: 'open' | 'ended'; last_seq: number };

/**
 * The admin service's storage on SQLite. Reads see what is committed, outside the write queue.
 * An erasure goes through the store's write queue (ordered with the chat's writes), with
 * `secure_delete` on for the connection (open-database.ts), so that the deleted rows' bytes are
 * overwritten with zeros in the pages that held them; then the write-ahead log, which still holds
 * the pages as they were before, is checkpointed and truncated to nothing.
 */
export class SqliteSessionAdministration implements SessionAdministration {
  private readonly sql;
  /** Listing statements, one per shape of filter (at most a few dozen). */
  private readonly listings = new Map<string, Database.Statement<unknown[], SummaryRow>>();

  constructor(
    private readonly db: Database.Database,
    private readonly housekeeping: StoreHousekeeping,
  ) {
    this.sql = {
      summary: db.prepare<[string], SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM sessions WHERE id = ?`),
      participants: db.prepare<[string], { agent: string }>(
        'SELECT agent FROM participants WHERE session_pk = (SELECT pk FROM sessions WHERE id = ?) ORDER BY first_attached_at, agent',
      ),
      customerSessions: db.prepare<[string], ErasedSession>('SELECT pk, id, state, last_seq FROM sessions WHERE customer = ?'),
      deleteParticipants: db.prepare<[number]>('DELETE FROM participants WHERE session_pk = ?'),
      deleteSession: db.prepare<[number]>('DELETE FROM sessions WHERE pk = ?'),
    };
  }

  async listSessions(filter: SessionFilter, limit: number, after: ListPosition | undefined): Promise<SessionPage> {
    this.housekeeping.foldSessionRows(); // the rows' counters (entry counts, last entry) lag the log until it is folded
    const { sql, parameters } = listingQuery(filter, after, limit + 1, () => '?');
    let statement = this.listings.get(sql);
    if (!statement) this.listings.set(sql, (statement = this.db.prepare<unknown[], SummaryRow>(sql)));
    return toPage(statement.all(...parameters), limit);
  }

  async describeSession(sessionId: string): Promise<SessionSummary | undefined> {
    this.housekeeping.foldSessionRows();
    const row = this.sql.summary.get(sessionId);
    return row && toSummary(row);
  }

  async participants(sessionId: string): Promise<string[]> {
    return this.sql.participants.all(sessionId).map((row) => row.agent);
  }

  eraseCustomer(customerId: string): Promise<CustomerErasure> {
    return this.housekeeping.deleteThroughWriteQueue(() => {
      const sessions = this.sql.customerSessions.all(customerId);
      // Read before the rows go: an open session's last seq is in the store's counters, not yet in its row (see the store's fold).
      const ended = sessions.filter((s) => s.state === 'open').map((s) => ({ id: s.id, lastSeq: this.housekeeping.lastSeqOf(s.id) ?? s.last_seq }));
      const entries = deleteEntriesOfSessions(this.db, sessions.map((s) => s.pk));
      for (const session of sessions) {
        this.sql.deleteParticipants.run(session.pk);
        this.sql.deleteSession.run(session.pk);
      }
      const sessionIds = sessions.map((s) => s.id);
      return { deletedSessionIds: sessionIds, result: { sessions: sessions.length, entries, sessionIds, ended } };
    });
  }

  /**
   * Copies the log's pages into the database file and truncates the log to zero bytes, so that
   * the pages as they were before the deletes are in neither file. A connection reading an older
   * snapshot (an operator's sqlite3 shell, a backup) holds the log: try again, without blocking
   * the event loop, for as long as a write would wait for the lock.
   */
  async purgeDeleted(): Promise<void> {
    const backoff = new LockBackoff();
    const deadline = performance.now() + MAX_LOCK_WAIT_MS;
    while (!this.checkpointTruncated()) {
      if (performance.now() >= deadline) {
        throw new ChatError('unavailable', 'the data is deleted, but another connection to the database keeps its old pages in the write-ahead log; call again to clear it');
      }
      await new Promise((resolve) => setTimeout(resolve, backoff.next()));
    }
  }

  private checkpointTruncated(): boolean {
    try {
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      return result?.busy === 0;
    } catch (error) {
      if (isLockConflict(error)) return false;
      throw error;
    }
  }
}
