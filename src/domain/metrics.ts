/** The side of a conversation: what a stream serves, or who wrote an entry. */
export type Side = 'customer' | 'agent';

/** Why the server cut a live stream short (the client resumes and finds everything in the history). */
export type StreamCut =
  /** Its client read too slowly: its own queue of responses filled up (--stream-queue). */
  | 'overflow'
  /** The responses waiting over every stream passed --max-buffered-bytes, and it held the most. */
  | 'buffer-budget'
  /** Another stream of the same customer, or of the same agent, took its session over. */
  | 'takeover';

/**
 * What the domain, the transport and the storage report for monitoring: events only, no user id,
 * session id or text (a monitoring system keeps every distinct label value forever). Each call is
 * cheap and synchronous; the implementation decides what to count (src/metrics/), and `noMetrics`
 * ignores everything when metrics are off.
 */
export interface Metrics {
  /** A call of the method serving `side` began (authenticated or not yet). */
  streamOpened(side: Side): void;
  /** That call is over; `method` is its path, `code` the name of the status its client got (`OK`, `NOT_FOUND`...). */
  streamClosed(side: Side, method: string, code: string): void;
  /** A call's credential was refused (or expired while it ran); `reason` is from a fixed set. */
  authenticationFailed(reason: string): void;
  /** A request waited for the stream's request rate (--max-messages-per-second). */
  requestThrottled(): void;
  streamCut(why: StreamCut): void;
  /** An entry was committed by this process. */
  entryCommitted(author: Side): void;
  /** An entry dated `date` (taken just before its commit) was written to a live stream now. */
  entryDelivered(date: Date): void;
  /** The store committed `writes` writes in one transaction that took `seconds`. */
  batchCommitted(writes: number, seconds: number): void;
  /** The idle timeout ended these many sessions. */
  idleSessionsEnded(sessions: number): void;
  /** Retention deleted these ended sessions and their entries. */
  retentionDeleted(sessions: number, entries: number): void;
}

const ignore = (): void => {};

/** Metrics off: every report is ignored. */
export const noMetrics: Metrics = {
  streamOpened: ignore,
  streamClosed: ignore,
  authenticationFailed: ignore,
  requestThrottled: ignore,
  streamCut: ignore,
  entryCommitted: ignore,
  entryDelivered: ignore,
  batchCommitted: ignore,
  idleSessionsEnded: ignore,
  retentionDeleted: ignore,
};
