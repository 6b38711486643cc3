/** Who wrote an entry: the session's customer, or an agent (by id). */
export type Author = { kind: 'customer' } | { kind: 'agent'; agentId: string };

/** One committed entry of a session's history. `seq` is 1, 2, 3, ... per session. */
export type Entry = Readonly<{ seq: number; date: Date; author: Author; text: string }>;

/**
 * A session as a stream sees it when it joins: its id, its customer, and its history up to
 * `lastSeq`. The history is read page by page (`readHistory`), so that a large one is never read,
 * nor encoded, in one piece.
 */
export type SessionSnapshot = Readonly<{
  sessionId: string;
  customerId: string;
  lastSeq: number;
  /** Up to `limit` entries with `afterSeq < seq <= lastSeq`, oldest first. */
  readHistory: (afterSeq: number, limit: number) => Promise<readonly Entry[]>;
}>;
