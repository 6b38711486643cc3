import type { ListPosition } from '../domain/session-administration';
import type { SessionRange } from '../domain/session-ranges';
import { SUMMARY_COLUMNS, toPage, type Placeholder, type SummaryRow } from './session-listing';
import type { RangePage } from '../domain/session-ranges';

/**
 * The query of one page of a range of sessions, as SQL that SQLite and PostgreSQL both run: oldest
 * first along the (created_at, pk) index (sessions_by_creation), so that each page starts where the
 * previous one stopped. A range of ends is filtered along the same order: no index on ended_at is
 * needed, and pages read one after another scan the table once at most.
 */
export function rangeQuery(range: SessionRange, after: ListPosition | undefined, limit: number, placeholder: Placeholder) {
  const parameters: unknown[] = [];
  const bind = (value: unknown) => placeholder(parameters.push(value));
  const column = range.by === 'created' ? 'created_at' : 'ended_at';
  const conditions = range.by === 'ended' ? ["state = 'ended'"] : [];
  // After the first page, the position is the lower bound of creation (it lies in the range): one
  // lower bound only, so the index search starts at the position, not at the range's start.
  if (after) conditions.push(`(created_at, pk) > (${bind(after.createdAt)}, ${bind(after.key)})`);
  if (range.start && !(after && range.by === 'created')) conditions.push(`${column} >= ${bind(range.start.getTime())}`);
  if (range.end) conditions.push(`${column} < ${bind(range.end.getTime())}`);
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  return { sql: `SELECT ${SUMMARY_COLUMNS} FROM sessions ${where} ORDER BY created_at, pk LIMIT ${bind(limit)}`, parameters };
}

/** The page of `rows`, read with a limit one above `limit`. */
export function toRangePage(rows: readonly SummaryRow[], limit: number): RangePage {
  return toPage(rows, limit);
}
