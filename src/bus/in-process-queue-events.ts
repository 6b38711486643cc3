import type { QueueEvent, QueueEvents, QueueWatcher } from '../domain/queue-events';
import { QueueWatchers } from './queue-watchers';

/** The queue's events in a single server process: delivered to its watchers at once, in the order of publishing. */
export class InProcessQueueEvents implements QueueEvents {
  private readonly watchers: QueueWatchers;

  constructor(onWatcherError: (error: unknown) => void) {
    this.watchers = new QueueWatchers(onWatcherError);
  }

  publish(event: QueueEvent): void {
    this.watchers.offer(event);
  }

  async watch(watcher: QueueWatcher): Promise<() => void> {
    return this.watchers.add(watcher);
  }
}
