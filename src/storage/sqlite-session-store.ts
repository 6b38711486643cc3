import type Database from 'better-sqlite3';
import { ChatError } from '../domain/chat-error';
import type { Author, Entry } from '../domain/entry';
import { noMetrics, type Metrics } from '../domain/metrics';
import type { EntryDraft, HistoryLimits, SessionRecord, SessionStore } from '../domain/session-store';
import { GroupCommit } from './group-commit';
import { SessionRowCache, type SessionCounters } from './session-row-cache';

type SessionRow = { pk: number; id: string; customer: string; state: 'open' | 'ended'; last_seq: number; last_entry_at: number | null; history_bytes: number };
type EntryRow = { seq: number; date_ms: number; agent: string | null; text: string };

/**
 * The SQLite implementation of the storage port. Every write goes through one queue, committed
 * in groups once per turn of the event loop (group-commit.ts), so writes apply in the order the
 * server received them and each is atomic: two streams never interleave inside one. Reads see
 * what is committed. Every statement is prepared once, here.
 */
export class SqliteSessionStore implements SessionStore {
  private readonly sql;
  /** Entries and session ends, committed in groups (see group-commit.ts). */
  private readonly writes: GroupCommit;
  /** Counters of sessions being written, so an entry costs one INSERT (see session-row-cache.ts). */
  private readonly rows: SessionRowCache;

  constructor(
    private readonly db: Database.Database,
    metrics: Pick<Metrics, 'batchCommitted'> = noMetrics,
  ) {
    const sessionColumns = 'pk, id, customer, state, last_seq, last_entry_at, history_bytes';
    this.sql = {
      countOpen: db.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM sessions WHERE customer = ? AND state = 'open'"),
      insertSession: db.prepare(
        "INSERT INTO sessions (id, customer, state, created_at, awaiting_since, last_activity_at) VALUES (?, ?, 'open', ?, ?, ?)",
      ),
      sessionById: db.prepare<[string], SessionRow>(`SELECT ${sessionColumns} FROM sessions WHERE id = ?`),
      historyPage: db.prepare<[string, number, number, number], EntryRow>(
        'SELECT seq, date_ms, agent, text FROM entries WHERE session_pk = (SELECT pk FROM sessions WHERE id = ?) AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
      ),
      insertEntry: db.prepare('INSERT INTO entries (session_pk, seq, date_ms, agent, text) VALUES (?, ?, ?, ?, ?)'),
      advanceSession: db.prepare(
        'UPDATE sessions SET last_seq = ?, last_entry_at = ?, history_bytes = ? WHERE pk = ?',
      ),
      endSession: db.prepare("UPDATE sessions SET state = 'ended', ended_at = ?, awaiting_since = NULL WHERE pk = ?"),
      nextAwaiting: db.prepare<[], { pk: number; id: string }>(
        "SELECT pk, id FROM sessions WHERE state = 'open' AND awaiting_since IS NOT NULL ORDER BY awaiting_since, pk LIMIT 1",
      ),
      markAttended: db.prepare("UPDATE sessions SET awaiting_since = NULL WHERE id = ? AND state = 'open'"),
      markAwaiting: db.prepare("UPDATE sessions SET awaiting_since = ? WHERE id = ? AND state = 'open'"),
      customerPresent: db.prepare(
        "UPDATE sessions SET last_activity_at = MAX(last_activity_at, ?) WHERE id = ? AND state = 'open'",
      ),
      lastActivity: db.prepare<[number], { t: number }>('SELECT last_activity_at AS t FROM sessions WHERE pk = ?'),
      // A scan of the open sessions (sessions_open_by_customer covers state = 'open'), once per sweep.
      idle: db.prepare<[number, number], { id: string }>(
        "SELECT id FROM sessions WHERE state = 'open' AND MAX(last_activity_at, IFNULL(last_entry_at, 0)) <= ? LIMIT ?",
      ),
      // Served by the sessions_awaiting index (its WHERE clause is repeated so that it applies).
      maxAwaitingSince: db.prepare<[], { t: number | null }>(
        "SELECT MAX(awaiting_since) AS t FROM sessions WHERE state = 'open' AND awaiting_since IS NOT NULL",
      ),
      requeueAttended: db.prepare("UPDATE sessions SET awaiting_since = ? WHERE state = 'open' AND awaiting_since IS NULL"),
    };
    this.rows = new SessionRowCache(
      (id) => {
        const row = this.sql.sessionById.get(id);
        return row && { pk: row.pk, id: row.id, customer: row.customer, state: row.state, lastSeq: row.last_seq, lastEntryAt: row.last_entry_at, historyBytes: row.history_bytes };
      },
      (row) => this.sql.advanceSession.run(row.lastSeq, row.lastEntryAt, row.historyBytes, row.pk),
    );
    this.writes = new GroupCommit(db, {
      beforeCommit: () => this.rows.writeDirty(),
      afterRollback: () => this.rows.clear(),
      committed: (writes, seconds) => metrics.batchCommitted(writes, seconds),
    });
  }

  createSession(id: string, customerId: string, now: Date, maxOpen: number): Promise<void> {
    return this.writes.run(() => {
      if (this.sql.countOpen.get(customerId)!.n >= maxOpen) {
        throw new ChatError('resource-exhausted', `this customer already has ${maxOpen} open sessions; hang one up first`);
      }
      const t = now.getTime();
      this.sql.insertSession.run(id, customerId, t, this.queueTime(t), t);
    });
  }

  async findSession(id: string): Promise<SessionRecord | undefined> {
    const row = this.sql.sessionById.get(id);
    return row && toRecord(row);
  }

  async readHistory(sessionId: string, afterSeq: number, upToSeq: number, limit: number): Promise<Entry[]> {
    return this.sql.historyPage.all(sessionId, afterSeq, upToSeq, limit).map(toEntry);
  }

  appendEntry(sessionId: string, draft: EntryDraft, now: Date, limits: HistoryLimits): Promise<Entry> {
    return this.writes.run(() => {
      const row = this.openSession(sessionId);
      // Entries are numbered 1, 2, 3...: the last number is the count.
      if (row.lastSeq >= limits.maxEntries) {
        throw new ChatError('resource-exhausted', `the session's history holds ${limits.maxEntries} entries, the most allowed`);
      }
      // The date never decreases within a session, even if the wall clock steps back.
      const date = new Date(Math.max(now.getTime(), row.lastEntryAt ?? 0));
      const historyBytes = row.historyBytes + draft.encodedSize(date);
      if (historyBytes > limits.maxBytes) {
        throw new ChatError('resource-exhausted', `the session's history would pass ${limits.maxBytes} bytes`);
      }
      const seq = row.lastSeq + 1;
      const agent = draft.author.kind === 'agent' ? draft.author.agentId : null;
      this.sql.insertEntry.run(row.pk, seq, date.getTime(), agent, draft.text);
      row.lastSeq = seq;
      row.lastEntryAt = date.getTime();
      row.historyBytes = historyBytes;
      this.rows.changed(row);
      return { seq, date, author: draft.author, text: draft.text };
    });
  }

  endSession(sessionId: string, now: Date): Promise<{ lastSeq: number }> {
    // Through the same queue as entries, so an end is ordered after the entries that came before it.
    return this.writes.run(() => this.end(this.openSession(sessionId), now));
  }

  endIdleSession(sessionId: string, cutoff: Date, now: Date): Promise<{ lastSeq: number } | undefined> {
    return this.writes.run(() => {
      const row = this.rows.get(sessionId);
      if (row?.state !== 'open') return undefined;
      const lastActivity = Math.max(this.sql.lastActivity.get(row.pk)!.t, row.lastEntryAt ?? 0);
      return lastActivity <= cutoff.getTime() ? this.end(row, now) : undefined;
    });
  }

  takeNextAwaiting(): Promise<string | undefined> {
    return this.writes.run(() => {
      const next = this.sql.nextAwaiting.get();
      if (next) this.sql.markAttended.run(next.id);
      return next?.id;
    });
  }

  markAttended(sessionId: string): Promise<SessionRecord> {
    return this.writes.run(() => {
      const row = this.openSession(sessionId);
      this.sql.markAttended.run(sessionId);
      return countersToRecord(row);
    });
  }

  markAwaiting(sessionId: string, now: Date): Promise<void> {
    return this.writes.run(() => void this.sql.markAwaiting.run(this.queueTime(now.getTime()), sessionId));
  }

  recordCustomerPresence(sessionIds: readonly string[], now: Date): Promise<void> {
    return this.writes.run(() => {
      for (const id of sessionIds) this.sql.customerPresent.run(now.getTime(), id);
    });
  }

  async findIdleSessions(cutoff: Date, limit: number): Promise<string[]> {
    return this.sql.idle.all(cutoff.getTime(), limit).map((row) => row.id);
  }

  /**
   * At start-up no stream is attached: the sessions whose agents left when the server stopped
   * rejoin the queue behind those that were awaiting already, in order of creation (SPEC §2).
   */
  requeueAttendedSessions(now: Date): number {
    return this.db.transaction(() => {
      // Strictly later than every awaiting session, or ties would put older attended sessions first.
      return this.sql.requeueAttended.run(this.queueTime(now.getTime())).changes;
    }).immediate();
  }

  /**
   * Queues `work` (synchronous SQL on this store's connection) with the live writes: it commits in
   * their group, in their order (housekeeping such as retention, which must not take the lock apart).
   */
  queueWrite<T>(work: () => T): Promise<T> {
    return this.writes.run(work);
  }

  /** Commits the writes still queued, then closes the database. */
  close(): void {
    this.writes.close();
    this.db.close();
  }

  private end(row: SessionCounters, now: Date): { lastSeq: number } {
    this.sql.endSession.run(now.getTime(), row.pk);
    row.state = 'ended';
    return { lastSeq: row.lastSeq };
  }

  /**
   * The time a session joins the queue at: now, but never before a session already waiting, or
   * a wall clock set back (after a wrong step forward) would put new sessions ahead of old ones.
   */
  private queueTime(now: number): number {
    const latest = this.sql.maxAwaitingSince.get()!.t;
    return latest === null ? now : Math.max(now, latest + 1);
  }

  private openSession(sessionId: string): SessionCounters {
    const row = this.rows.get(sessionId);
    if (!row) throw new ChatError('not-found', 'no such session');
    if (row.state !== 'open') throw new ChatError('failed-precondition', 'the session has ended');
    return row;
  }
}

function toRecord(row: SessionRow): SessionRecord {
  return { id: row.id, customerId: row.customer, state: row.state, lastSeq: row.last_seq };
}

function countersToRecord(row: SessionCounters): SessionRecord {
  return { id: row.id, customerId: row.customer, state: row.state, lastSeq: row.lastSeq };
}

function toEntry(row: EntryRow): Entry {
  const author: Author = row.agent === null ? { kind: 'customer' } : { kind: 'agent', agentId: row.agent };
  return { seq: row.seq, date: new Date(row.date_ms), author, text: row.text };
}
