import type { SessionCounters } from '../session-row-cache';
import type { StoreStatements } from './store-statements';

/**
 * A session's counters as of what is committed: its row, which counts the folded entries, plus the
 * entries of the log's tail (see 002_entry_log.sql). The tail is scanned only for a session that
 * may have entries in it (`mayHaveTail`): most reads are of sessions the last fold covered.
 */
export function readSessionCounters(sql: StoreStatements, mayHaveTail: (pk: number) => boolean, id: string): SessionCounters | undefined {
  const row = sql.sessionById.get(id);
  if (row === undefined) return undefined;
  const counters = { pk: row.pk, id: row.id, customer: row.customer, state: row.state, lastSeq: row.last_seq, lastEntryAt: row.last_entry_at, historyBytes: row.history_bytes };
  if (!mayHaveTail(row.pk)) return counters;
  const tail = sql.tailCounters.get(row.pk)!;
  if (tail.last_seq === null) return counters;
  return {
    ...counters,
    lastSeq: Math.max(counters.lastSeq, tail.last_seq),
    lastEntryAt: Math.max(counters.lastEntryAt ?? 0, tail.last_entry_at!),
    historyBytes: counters.historyBytes + tail.bytes,
  };
}
