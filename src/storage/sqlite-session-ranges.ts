import type Database from 'better-sqlite3';
import type { ListPosition } from '../domain/session-administration';
import type { RangePage, SessionRange, SessionRanges } from '../domain/session-ranges';
import { rangeQuery, toRangePage } from './session-range-query';
import type { SummaryRow } from './session-listing';
import type { StoreHousekeeping } from './sqlite/store-housekeeping';

/** The sessions of a time range on SQLite: reads of what is committed, outside the write queue. */
export class SqliteSessionRanges implements SessionRanges {
  /** One statement per shape of range (a few). */
  private readonly statements = new Map<string, Database.Statement<unknown[], SummaryRow>>();

  constructor(
    private readonly db: Database.Database,
    private readonly housekeeping: StoreHousekeeping,
  ) {}

  async sessionsInRange(range: SessionRange, limit: number, after: ListPosition | undefined): Promise<RangePage> {
    this.housekeeping.foldSessionRows(); // the rows' counters (entry counts) lag the log until it is folded
    const { sql, parameters } = rangeQuery(range, after, limit + 1, () => '?');
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare<unknown[], SummaryRow>(sql)));
    return toRangePage(statement.all(...parameters), limit);
  }
}
