import type Database from 'better-sqlite3';

/**
 * The fold (see migrations/sqlite/002_entry_log.sql): one transaction indexes the entries above
 * `folded_up_to` into entry_index, adds them to their sessions' counters, and moves
 * `folded_up_to` past them. It runs off the per-message path, every few thousand entries, and at
 * start-up for whatever tail a crash left. Atomic: a crash before COMMIT leaves the tail to the
 * next fold, after COMMIT nothing of it is left to fold again, so nothing is lost or counted twice.
 */
export class EntryLogFold {
  private readonly foldedUpTo;
  private readonly lastId;
  private readonly runFold: () => number;

  constructor(db: Database.Database) {
    this.foldedUpTo = db.prepare<[], { n: number }>('SELECT folded_up_to AS n FROM entry_log');
    this.lastId = db.prepare<[], { n: number | null }>('SELECT MAX(id) AS n FROM entries');
    // Sorted so that the index's pages are written one session after another, once each.
    const index = db.prepare<[number, number]>(
      'INSERT INTO entry_index (session_pk, seq, entry_id) SELECT session_pk, seq, id FROM entries WHERE id > ? AND id <= ? ORDER BY session_pk, seq',
    );
    // MAX, not plain assignment: the counters of a session written before the fold are never set back.
    const count = db.prepare<[number, number]>(`
      UPDATE sessions SET last_seq = MAX(sessions.last_seq, t.tail_seq),
                          last_entry_at = MAX(IFNULL(sessions.last_entry_at, 0), t.tail_date),
                          history_bytes = sessions.history_bytes + t.tail_bytes
      FROM (SELECT session_pk, MAX(seq) AS tail_seq, MAX(date_ms) AS tail_date, IFNULL(SUM(encoded_bytes), 0) AS tail_bytes
            FROM entries WHERE id > ? AND id <= ? GROUP BY session_pk) AS t
      WHERE sessions.pk = t.session_pk`);
    const advance = db.prepare<[number]>('UPDATE entry_log SET folded_up_to = ?');
    const fold = db.transaction(() => {
      const from = this.tailStart();
      const to = this.lastId.get()!.n ?? 0;
      if (to <= from) return 0;
      const folded = index.run(from, to).changes;
      count.run(from, to);
      advance.run(to);
      return folded;
    });
    this.runFold = () => fold.immediate();
  }

  /** The id of the last folded entry: entries above it are the tail. */
  tailStart(): number {
    return this.foldedUpTo.get()!.n;
  }

  /** The highest id in the log or already folded (0 for an empty log): new entries are numbered above it. */
  highestId(): number {
    return Math.max(this.lastId.get()!.n ?? 0, this.tailStart());
  }

  /** Folds the whole tail in one write transaction; returns how many entries it indexed. */
  foldTail(): number {
    return this.runFold();
  }
}

/** Folds whatever tail `db` has (at start-up, or before reading it whole); returns how many entries it indexed. */
export function foldEntryLog(db: Database.Database): number {
  return new EntryLogFold(db).foldTail();
}
