import type { QueueEvent, QueueWatcher } from '../domain/queue-events';

/**
 * The queue's watchers in this process. Each is isolated: one that throws is reported, and the
 * others (and the publisher, whose change has committed) still go on.
 */
export class QueueWatchers {
  /** Replaced, never changed in place: a watcher may stop (itself or another) while an event is delivered. */
  private watchers: readonly QueueWatcher[] = [];

  constructor(private readonly onWatcherError: (error: unknown) => void) {}

  /** Adds `watcher`; returns the function that removes it (safe to call twice). */
  add(watcher: QueueWatcher): () => void {
    this.watchers = [...this.watchers, watcher];
    return () => {
      this.watchers = this.watchers.filter((w) => w !== watcher);
    };
  }

  offer(event: QueueEvent): void {
    for (const watcher of this.watchers) this.isolated(() => watcher.onEvent(event));
  }

  /** Tells every watcher that events may have been lost. */
  missed(): void {
    for (const watcher of this.watchers) this.isolated(() => watcher.onMissed());
  }

  get count(): number {
    return this.watchers.length;
  }

  private isolated(deliver: () => void): void {
    try {
      deliver();
    } catch (error) {
      this.onWatcherError(error);
    }
  }
}
