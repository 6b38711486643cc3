import type Database from 'better-sqlite3';
import type { QueueStatistics, QueueStatisticsSource } from '../domain/queue-statistics';

type CountsRow = { awaiting: number | null; oldest: number | null; attended: number | null };

/**
 * The queue's counts from a SQLite database. A read of what is committed, outside the write
 * queue: it never waits for nor delays a batch of writes.
 */
export class SqliteQueueStatistics implements QueueStatisticsSource {
  private readonly counts;

  constructor(db: Database.Database) {
    // One pass over the open sessions (an open session awaits while awaiting_since is set).
    this.counts = db.prepare<[], CountsRow>(
      `SELECT SUM(awaiting_since IS NOT NULL) AS awaiting, MIN(awaiting_since) AS oldest, SUM(awaiting_since IS NULL) AS attended
         FROM sessions WHERE state = 'open'`,
    );
  }

  async queueStatistics(): Promise<QueueStatistics> {
    const row = this.counts.get()!;
    return {
      awaitingCount: row.awaiting ?? 0,
      oldestAwaitingSince: row.oldest === null ? undefined : new Date(row.oldest),
      attendedCount: row.attended ?? 0,
    };
  }
}
