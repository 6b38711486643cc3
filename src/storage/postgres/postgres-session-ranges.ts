import type pg from 'pg';
import type { ListPosition } from '../../domain/session-administration';
import type { RangePage, SessionRange, SessionRanges } from '../../domain/session-ranges';
import { rangeQuery, toRangePage } from '../session-range-query';
import type { SummaryRow } from '../session-listing';
import { unlessUnavailable } from './postgres-connection';

/** The sessions of a time range on PostgreSQL: one query per page. */
export class PostgresSessionRanges implements SessionRanges {
  constructor(private readonly pool: pg.Pool) {}

  async sessionsInRange(range: SessionRange, limit: number, after: ListPosition | undefined): Promise<RangePage> {
    const { sql, parameters } = rangeQuery(range, after, limit + 1, (n) => `$${n}`);
    const { rows } = await unlessUnavailable(() => this.pool.query<SummaryRow>(sql, parameters));
    return toRangePage(rows, limit);
  }
}
