import type { ListPosition, SessionSummary } from './session-administration';

/** Sessions created, or ended, in a time range; an unset bound is open. */
export type SessionRange = Readonly<{
  by: 'created' | 'ended';
  /** Inclusive. */
  start?: Date;
  /** Exclusive. */
  end?: Date;
}>;

export type RangePage = Readonly<{
  sessions: SessionSummary[];
  /** Where the next page starts, or undefined when this page is the last. */
  next: ListPosition | undefined;
}>;

/**
 * The sessions of a time range, oldest first (by creation, ties by the order of creation), read
 * page by page for an export: no page depends on the size of the range, and the pages read one
 * after another name each session of the range once, whatever is created meanwhile.
 */
export interface SessionRanges {
  /** Up to `limit` sessions of `range`, starting after `after`. */
  sessionsInRange(range: SessionRange, limit: number, after: ListPosition | undefined): Promise<RangePage>;
}
