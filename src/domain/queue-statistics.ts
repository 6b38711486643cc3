/** The awaiting queue and the open sessions as one moment's counts (metrics, the admin service). */
export type QueueStatistics = Readonly<{
  /** Open sessions awaiting an agent. */
  awaitingCount: number;
  /** When the session awaiting the longest joined the queue; undefined if none awaits. */
  oldestAwaitingSince: Date | undefined;
  /** Open sessions with at least one agent attached. */
  attendedCount: number;
}>;

/**
 * Reads the queue's counts from the store, so that every instance sharing one database reports
 * the same queue (SPEC §8). Read-only: it never delays a write.
 */
export interface QueueStatisticsSource {
  queueStatistics(): Promise<QueueStatistics>;
}
