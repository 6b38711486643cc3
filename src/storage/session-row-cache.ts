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

/** Sessions kept beyond this are dropped (oldest first): a later entry reads its counters again. */
const MAX_CACHED_SESSIONS = 10_000;

/**
 * The counters of recently written sessions, so that an entry needs neither a SELECT of its
 * session nor an UPDATE of it: the database catches up at the next fold (sqlite/entry-log-fold.ts).
 * Only the store's write queue changes them, so they are exact as long as every change of these
 * columns goes through it; after a rollback the cache is cleared, because it may hold changes the
 * database does not, and `read` counts again from the database (session row plus log tail).
 */
export class SessionRowCache {
  private readonly rows = new Map<string, SessionCounters>();

  constructor(private readonly read: (id: string) => SessionCounters | undefined) {}

  /** The session's counters, from memory or read from the database. */
  get(id: string): SessionCounters | undefined {
    let row = this.rows.get(id);
    if (row === undefined) {
      row = this.read(id);
      if (row !== undefined) this.keep(id, row);
    }
    return row;
  }

  /** Forgets one session (its row was deleted): a later write reads the database again, and finds none. */
  forget(id: string): void {
    this.rows.delete(id);
  }

  /** Forgets everything: the transaction that these changes belonged to was rolled back. */
  clear(): void {
    this.rows.clear();
  }

  private keep(id: string, row: SessionCounters): void {
    this.rows.set(id, row);
    if (this.rows.size <= MAX_CACHED_SESSIONS) return;
    this.rows.delete(this.rows.keys().next().value!);
  }
}
