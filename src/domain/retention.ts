/** Where a pass of deletions resumes: 0 at the start of a pass; otherwise opaque (the store's own key). */
export type RetentionCursor = number;

/** What one batch deleted, and where the next one resumes (undefined: nothing older is left). */
export type RetentionBatch = Readonly<{ sessions: number; entries: number; next: RetentionCursor | undefined }>;

/**
 * The storage side of retention (--retention-days): deletes ended sessions with their entries, a
 * small batch at a time, each batch one short transaction, so that live traffic never waits
 * behind a large delete. Open sessions are never touched, however old.
 */
export interface RetentionStore {
  /**
   * Deletes, from `from` on, up to about `maxRows` rows (entries, and the sessions emptied of them)
   * of sessions that ended at or before `endedBefore`; a session's row goes once all its entries
   * have. A pass that starts at 0 and follows `next` until it is undefined visits each session once.
   */
  deleteEnded(endedBefore: Date, from: RetentionCursor, maxRows: number): Promise<RetentionBatch>;
}

export type RetentionPace = Readonly<{
  /** Rows one batch deletes at most. */
  batchRows: number;
  /** A pause between two batches, which leaves the database to live traffic meanwhile. */
  pauseMs: number;
}>;

/** How many sessions and entries a pass deleted. */
export type RetentionTotals = { sessions: number; entries: number };

/**
 * One pass: deletes every session that ended at or before `endedBefore`, with its entries, batch
 * after batch, reporting each batch to `onBatch` (metrics). `stopped` ends the pass between
 * batches (shutdown).
 */
export async function deleteEndedSessions(
  store: RetentionStore,
  endedBefore: Date,
  pace: RetentionPace,
  onBatch: (batch: RetentionBatch) => void,
  stopped: () => boolean = () => false,
): Promise<RetentionTotals> {
  const totals = { sessions: 0, entries: 0 };
  for (let from: RetentionCursor | undefined = 0; from !== undefined && !stopped(); ) {
    const batch = await store.deleteEnded(endedBefore, from, pace.batchRows);
    totals.sessions += batch.sessions;
    totals.entries += batch.entries;
    if (batch.sessions + batch.entries > 0) onBatch(batch);
    from = batch.next;
    if (from !== undefined && pace.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pace.pauseMs));
  }
  return totals;
}
