import type pg from 'pg';
import type { QueueStatistics, QueueStatisticsSource } from '../../domain/queue-statistics';
import { unlessUnavailable } from './postgres-connection';

type CountsRow = { awaiting: string; oldest: string | null; attended: string };

/**
 * The queue's counts from the deployment's PostgreSQL database: every instance reports the same
 * queue. One read-only statement, which takes no row lock and so never waits for a write.
 */
export class PostgresQueueStatistics implements QueueStatisticsSource {
  constructor(private readonly pool: pg.Pool) {}

  async queueStatistics(): Promise<QueueStatistics> {
    const { rows } = await unlessUnavailable(() =>
      this.pool.query<CountsRow>(
        `SELECT count(*) FILTER (WHERE awaiting_since IS NOT NULL) AS awaiting, min(awaiting_since) AS oldest,
                count(*) FILTER (WHERE awaiting_since IS NULL) AS attended
           FROM sessions WHERE state = 'open'`,
      ),
    );
    const row = rows[0]!;
    return {
      awaitingCount: Number(row.awaiting),
      oldestAwaitingSince: row.oldest === null ? undefined : new Date(Number(row.oldest)),
      attendedCount: Number(row.attended),
    };
  }
}
