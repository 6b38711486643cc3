/** The columns of a session row that every entry reads and advances. */
export type SessionCounters = {
  readonly pk: number;
  readonly id: string;
  readonly customer: string;
  state: 'open' | 'ended';
  lastSeq: number;
  lastEntryAt: number | null;
  historyBytes: number;
};

/** Sessions kept beyond this are dropped (oldest first) once written: a later entry reads its row again. */
const MAX_CACHED_SESSIONS = 10_000;

/**
 * The counters of recently written sessions, so that an entry needs neither a SELECT of its
 * session row nor an UPDATE of it: rows changed in a batch are written once, at its end, inside
 * the same transaction (writeDirty). Only the store's write queue touches it, so it is exact as
 * long as every change of these columns goes through it; after a rollback it is cleared, because
 * it may hold changes the database does not.
 */
export class SessionRowCache {
  private readonly rows = new Map<string, SessionCounters>();
  private readonly dirty = new Set<SessionCounters>();

  constructor(
    private readonly read: (id: string) => SessionCounters | undefined,
    private readonly write: (row: SessionCounters) => void,
  ) {}

  /** The session's counters, from memory or read from the database. */
  get(id: string): SessionCounters | undefined {
    let row = this.rows.get(id);
    if (row === undefined) {
      row = this.read(id);
      if (row !== undefined) this.rows.set(id, row);
    }
    return row;
  }

  /** Marks a row changed: it is written by the next writeDirty. */
  changed(row: SessionCounters): void {
    this.dirty.add(row);
  }

  /** Writes the changed rows (inside the batch's transaction, before COMMIT) and trims the cache. */
  writeDirty(): void {
    for (const row of this.dirty) this.write(row);
    this.dirty.clear();
    for (const id of this.rows.keys()) {
      if (this.rows.size <= MAX_CACHED_SESSIONS) break;
      this.rows.delete(id);
    }
  }

  /** Forgets one session (its row was deleted): a later write reads the database again, and finds none. */
  forget(id: string): void {
    const row = this.rows.get(id);
    if (row === undefined) return;
    this.rows.delete(id);
    this.dirty.delete(row);
  }

  /** Forgets everything: the transaction that these changes belonged to was rolled back. */
  clear(): void {
    this.rows.clear();
    this.dirty.clear();
  }
}
