import type { Author, Entry } from './entry';

/** What the domain needs to know of a stored session. */
export type SessionRecord = Readonly<{ id: string; customerId: string; state: 'open' | 'ended'; lastSeq: number }>;

/** An entry to append; the store gives it its sequence number and date. */
export type EntryDraft = Readonly<{
  author: Author;
  text: string;
  /** Bytes the entry adds to the encoded history, given the date the store picks. */
  encodedSize: (date: Date) => number;
}>;

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
  /** The session and its full history, read at one instant. */
  readSession(id: string): Promise<{ session: SessionRecord; history: Entry[] } | undefined>;
  /**
   * Commits an entry with seq = last + 1 and date = max(now, previous date). `failed-precondition`
   * if the session has ended, `resource-exhausted` if the history would pass `maxHistoryBytes`.
   */
  appendEntry(sessionId: string, draft: EntryDraft, now: Date, maxHistoryBytes: number): Promise<Entry>;
  /** Ends an open session; returns the sequence number of its last entry. `failed-precondition` if already ended. */
  endSession(sessionId: string, now: Date): Promise<{ lastSeq: number }>;
  /** Takes the session awaiting an agent the longest out of the queue, or undefined if none awaits. */
  takeNextAwaiting(): Promise<string | undefined>;
  /** Takes an open session out of the awaiting queue (an agent attached). */
  markAttended(sessionId: string): Promise<void>;
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
