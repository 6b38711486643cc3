import type { GroupCommit } from '../group-commit';
import type { SessionRowCache } from '../session-row-cache';

/**
 * What the SQLite store offers work other than the chat's own (the admin service, retention): a
 * read of the session rows that must see every entry, and deletes that must be ordered with the
 * chat's writes and must not leave the store's cached counters behind.
 */
export class StoreHousekeeping {
  constructor(
    private readonly writes: GroupCommit,
    private readonly rows: SessionRowCache,
    private readonly foldTail: () => void,
  ) {}

  /** Folds the log's tail, if any, so that the session rows' counters (last seq and date) are exact for a reader of the rows. */
  foldSessionRows(): void {
    this.foldTail();
  }

  /** The session's last sequence number as the write queue knows it (ahead of its row until the next fold); for work run through the queue. */
  lastSeqOf(sessionId: string): number | undefined {
    return this.rows.get(sessionId)?.lastSeq;
  }

  /**
   * Runs `work` (synchronous SQL that deletes sessions) through the write queue, so that it is
   * ordered with the chat's writes and never interleaves with a batch; the cached counters of the
   * sessions it reports deleted are dropped, so that a later write to one finds no session.
   */
  deleteThroughWriteQueue<T>(work: () => { deletedSessionIds: readonly string[]; result: T }): Promise<T> {
    return this.writes.run(() => {
      const { deletedSessionIds, result } = work();
      for (const id of deletedSessionIds) this.rows.forget(id);
      return result;
    });
  }
}
