import type { Author, Entry } from './entry';
import type { StreamId } from './event-bus';

/** What the domain needs to know of a stored session. */
export type SessionRecord = Readonly<{ id: string; customerId: string; state: 'open' | 'ended'; lastSeq: number }>;

/** An entry to append; the store gives it its sequence number and date. */
export type EntryDraft = Readonly<{
  author: Author;
  text: string;
  /** The stream that sends it (a store shared by instances keeps it, see SessionEvent.origin). */
  origin: StreamId;
  /** Bytes the entry adds to the encoded history, given the date the store picks. */
  encodedSize: (date: Date) => number;
}>;

/** How large one session's history may grow (SPEC §6 --max-history-bytes, --max-history-entries). */
export type HistoryLimits = Readonly<{ maxBytes: number; maxEntries: number }>;

/**
 * The storage port of the domain. Each method is atomic: an implementation runs it as one
 * transaction, so concurrent streams can never take the same queued session or break the
 * per-session sequence. Methods throw ChatError for rule violations they detect atomically
 * (session full, ended, limit reached).
 */
export interface SessionStore {
  /** Creates an open session awaiting an agent; `resource-exhausted` if the customer already has `maxOpen`. */
  createSession(id: string, customerId: string, now: Date, maxOpen: number): Promise<void>;
  findSession(id: string): Promise<SessionRecord | undefined>;
  /**
   * Up to `limit` entries of the session with `afterSeq < seq <= upToSeq`, oldest first. Entries
   * never change once committed, so pages read one after another make one consistent history.
   */
  readHistory(sessionId: string, afterSeq: number, upToSeq: number, limit: number): Promise<Entry[]>;
  /**
   * Commits an entry with seq = last + 1 and date = max(now, previous date). `failed-precondition`
   * if the session has ended, `resource-exhausted` if the history would pass one of `limits`.
   */
  appendEntry(sessionId: string, draft: EntryDraft, now: Date, limits: HistoryLimits): Promise<Entry>;
  /** Ends an open session; returns the sequence number of its last entry. `failed-precondition` if already ended. */
  endSession(sessionId: string, now: Date): Promise<{ lastSeq: number }>;
  /**
   * Ends the session only if it is still open and idle: no entry and no customer presence after
   * `cutoff`, and, for a store shared by instances, no customer stream attached on any (checked in
   * the same transaction as the end). Returns its last sequence number, or undefined if it was
   * left open.
   */
  endIdleSession(sessionId: string, cutoff: Date, now: Date): Promise<{ lastSeq: number } | undefined>;
  /** Takes the session awaiting an agent the longest out of the queue, or undefined if none awaits. */
  takeNextAwaiting(): Promise<string | undefined>;
  /**
   * Agent `agentId` attached: takes the session out of the awaiting queue, records the agent as
   * one who took part (once, with `now` the first time), and returns the session as of that
   * moment. `not-found` if there is no such session, `failed-precondition` if it has ended.
   */
  markAttended(sessionId: string, agentId: string, now: Date): Promise<SessionRecord>;
  /** Puts an open session at the end of the awaiting queue (its last agent left). */
  markAwaiting(sessionId: string, now: Date): Promise<void>;
  /**
   * Records that these sessions' customers were attached until `now`: when one detaches, and
   * periodically while attached, so that after a crash (no detach recorded) the idle timeout still
   * counts from about the crash, not from the last entry. The idle timeout counts from the later
   * of this and the last entry.
   */
  recordCustomerPresence(sessionIds: readonly string[], now: Date): Promise<void>;
  /** Up to `limit` open sessions with no entry and no customer detach since `cutoff`. */
  findIdleSessions(cutoff: Date, limit: number): Promise<string[]>;
}
