/** What happened to a session in the awaiting queue (the admin service's WatchQueue). */
export type QueueEventKind = 'waiting' | 'taken' | 'ended';

/**
 * A session started waiting for an agent (it was created, or its last agent left), was taken out
 * of the queue by an agent, or ended. Published after the change has committed.
 */
export type QueueEvent = Readonly<{ kind: QueueEventKind; sessionId: string; customerId: string; at: Date }>;

/** One watch of the queue. */
export type QueueWatcher = Readonly<{
  /** Each event published from the start of the watch, once; in order of publishing for the events of one instance. */
  onEvent: (event: QueueEvent) => void;
  /** Events may have been lost (the instances' channel was cut): the watch can no longer be complete. */
  onMissed: () => void;
}>;

/**
 * Carries the queue's changes to every watcher, on every instance of a deployment, so that a
 * dashboard needs no polling. A watch shows what happens from its start: nothing is stored.
 */
export interface QueueEvents {
  publish(event: QueueEvent): void;
  /** Starts a watch; resolves with the function that stops it. Rejects (`unavailable`) when events of other instances cannot be received now. */
  watch(watcher: QueueWatcher): Promise<() => void>;
}
