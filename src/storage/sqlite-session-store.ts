import type Database from 'better-sqlite3';
import { ChatError } from '../domain/chat-error';
import type { Entry } from '../domain/entry';
import type { Metrics } from '../domain/metrics';
import type { EntryDraft, HistoryLimits, StoredSession, SessionStore } from '../domain/session-store';
import { GroupCommit } from './group-commit';
import { SessionRowCache, type SessionCounters } from './session-row-cache';
import { StoreHousekeeping } from './sqlite/store-housekeeping';
import { EntryLogFold } from './sqlite/entry-log-fold';
import { FoldSchedule, type FoldPolicy } from './sqlite/fold-schedule';
import { readSessionCounters } from './sqlite/session-counters';
import { entryFromRow, prepareStoreStatements } from './sqlite/store-statements';

export type SqliteStoreOptions = Readonly<{ fold?: FoldPolicy; onFoldFailure?: (error: unknown) => void; metrics?: Pick<Metrics, 'batchCommitted'> }>;

/**
 * The SQLite implementation of the storage port: histories are an append-only log, indexed in bulk.
 *
 * - An entry is ONE INSERT at the end of `entries`: no per-session index page and no session row
 *   is written per message. Writes go through one queue, committed in groups once per turn of the
 *   event loop (group-commit.ts) and published only after COMMIT; the counters an entry needs
 *   (last seq and date, history bytes) are kept in memory (session-row-cache.ts).
 * - Every few thousand entries or about a second, a FOLD (sqlite/entry-log-fold.ts) indexes the
 *   new rows by (session, seq) and brings the session rows' counters up to date, in one
 *   transaction of its own. Start-up folds the tail a crash left before serving (open-database.ts).
 * - Reads see folded and unfolded entries alike: a history page joins the index with the tail, and
 *   a session's counters are its row plus its tail (sqlite/store-statements.ts). The layout is
 *   described in migrations/sqlite/002_entry_log.sql.
 */
export class SqliteSessionStore implements SessionStore {
  private readonly sql;
  private readonly writes: GroupCommit;
  private readonly rows: SessionRowCache;
  private readonly log: EntryLogFold;
  private readonly folds: FoldSchedule;
  /** Sessions that may have entries in the tail: only theirs need the tail counted. */
  private readonly tailSessions: Set<number>;
  /** The id of the next entry: above every id in the log and every id folded, even if those entries were deleted since (see 002_entry_log.sql). */
  private nextEntryId: number;
  /** For the admin service and retention: work that must go through this store's queue and caches. */
  readonly housekeeping: StoreHousekeeping;

  constructor(
    private readonly db: Database.Database,
    options: SqliteStoreOptions = {},
  ) {
    this.sql = prepareStoreStatements(db);
    this.log = new EntryLogFold(db);
    this.nextEntryId = this.log.highestId() + 1;
    this.tailSessions = new Set(this.sql.tailSessions.all());
    this.folds = new FoldSchedule(() => this.fold(), options.onFoldFailure ?? (() => {}), options.fold);
    this.rows = new SessionRowCache((id) => this.readCounters(id));
    const metrics = options.metrics;
    this.writes = new GroupCommit(db, { afterRollback: () => this.rows.clear(), ...(metrics && { committed: (writes, seconds) => metrics.batchCommitted(writes, seconds) }) });
    this.housekeeping = new StoreHousekeeping(this.writes, this.rows, () => this.tailSessions.size > 0 && this.folds.run());
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

  async findSession(id: string): Promise<StoredSession | undefined> {
    // From the database, not the cache: a session deleted or ended by another connection (an
    // operator's tool) is seen as such. Joins and resumes read it, not messages.
    const row = this.readCounters(id);
    return row && countersToRecord(row);
  }

  async readHistory(sessionId: string, afterSeq: number, upToSeq: number, limit: number): Promise<Entry[]> {
    return this.sql.historyPage.all({ id: sessionId, after: afterSeq, upTo: upToSeq, limit }).map(entryFromRow);
  }

  appendEntry(sessionId: string, draft: EntryDraft, now: Date, limits: HistoryLimits): Promise<Entry> {
    return this.writes.run(() => {
      const row = this.openSession(sessionId);
      // Entries are numbered 1, 2, 3...: the last number is the count.
      if (row.lastSeq >= limits.maxEntries) {
        throw new ChatError('resource-exhausted', `the session's history holds ${limits.maxEntries} entries, the most allowed`);
      }
      // The date never decreases within a session, even if the wall clock steps back.
      const date = Math.max(now.getTime(), row.lastEntryAt ?? 0);
      const entryDate = new Date(date);
      const bytes = draft.encodedSize(entryDate);
      if (row.historyBytes + bytes > limits.maxBytes) {
        throw new ChatError('resource-exhausted', `the session's history would pass ${limits.maxBytes} bytes`);
      }
      const seq = row.lastSeq + 1;
      const agent = draft.author.kind === 'agent' ? draft.author.agentId : null;
      this.sql.insertEntry.run(this.nextEntryId++, row.pk, seq, date, agent, draft.text, bytes);
      this.tailSessions.add(row.pk);
      this.folds.appended();
      row.lastSeq = seq;
      row.lastEntryAt = date;
      row.historyBytes += bytes;
      return { seq, date: entryDate, author: draft.author, text: draft.text };
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

  markAttended(sessionId: string, agentId: string, now: Date): Promise<StoredSession> {
    return this.writes.run(() => {
      const row = this.openSession(sessionId);
      this.sql.markAttended.run(sessionId);
      this.sql.addParticipant.run(row.pk, agentId, now.getTime());
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
    // The sweep reads last_entry_at from the session rows: bring them up to date first.
    this.housekeeping.foldSessionRows();
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

  /** Commits the writes still queued, folds the tail (so the next start has none), then closes the database. */
  close(): void {
    this.writes.close();
    this.folds.stop();
    if (this.db.open && this.tailSessions.size > 0) this.folds.run();
    this.folds.stop();
    this.db.close();
  }

  private fold(): void {
    this.log.foldTail();
    this.tailSessions.clear();
  }

  private readCounters(id: string): SessionCounters | undefined {
    return readSessionCounters(this.sql, (pk) => this.tailSessions.has(pk), id);
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

function countersToRecord(row: SessionCounters): StoredSession {
  return { id: row.id, customerId: row.customer, state: row.state, lastSeq: row.lastSeq };
}
