/** Where a session stands: open and in the awaiting queue, open with an agent attached, or ended. */
export type SessionState = 'awaiting' | 'attended' | 'ended';

/** A session as an operator lists it: everything but its history. */
export type SessionSummary = Readonly<{
  id: string;
  customerId: string;
  state: SessionState;
  createdAt: Date;
  endedAt: Date | undefined;
  /** When it joined the awaiting queue; only while awaiting. */
  awaitingSince: Date | undefined;
  /** Entries in its history (they are numbered 1..n: this is also the last sequence number). */
  entryCount: number;
  lastEntryAt: Date | undefined;
}>;

/** Which sessions a listing keeps; an unset field keeps all. */
export type SessionFilter = Readonly<{
  state?: SessionState;
  customerId?: string;
  /** Sessions this agent has attached to (see `participants`). */
  agentId?: string;
  /** Created at or after. */
  createdAfter?: Date;
  /** Created strictly before. */
  createdBefore?: Date;
}>;

/**
 * A place in the listing order (newest first: creation time, then the store's order of creation),
 * just after which the next page starts. The store makes it; callers only hand it back.
 */
export type ListPosition = Readonly<{ createdAt: number; key: number }>;

export type SessionPage = Readonly<{
  sessions: SessionSummary[];
  /** Where the next page starts, or undefined when this page is the last. */
  next: ListPosition | undefined;
}>;

/** What erasing a customer removed; `ended` are the sessions that were open (their streams must be told). */
export type CustomerErasure = Readonly<{
  sessions: number;
  entries: number;
  /** Every erased session's id. */
  sessionIds: string[];
  /** The sessions that were open, with the sequence number of their last entry. */
  ended: ReadonlyArray<Readonly<{ id: string; lastSeq: number }>>;
}>;

/**
 * The storage port of the admin service: reading sessions as an operator does, the record of who
 * took part, and erasure. Reads see what is committed; `eraseCustomer` is one transaction, ordered
 * with the chat's writes, after which nothing of the customer can be read back from the database.
 */
export interface SessionAdministration {
  /** Up to `limit` sessions that pass `filter`, newest first, starting after `after`. */
  listSessions(filter: SessionFilter, limit: number, after: ListPosition | undefined): Promise<SessionPage>;
  /** One session's summary, or undefined if there is no such session. */
  describeSession(sessionId: string): Promise<SessionSummary | undefined>;
  /** The agents who have attached to the session, in the order they first did. */
  participants(sessionId: string): Promise<string[]>;
  /** Removes every session of the customer with its entries and participants, in one transaction. */
  eraseCustomer(customerId: string): Promise<CustomerErasure>;
  /**
   * Makes sure that the bytes of the rows deleted so far cannot be read back from the database's
   * files (SQLite: its write-ahead log). `unavailable` if another connection keeps it from that
   * for now; calling again finishes it.
   */
  purgeDeleted(): Promise<void>;
}
