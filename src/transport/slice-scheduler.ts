/** How long the queued slices may run in one turn of the event loop before I/O gets its turn. */
const DEFAULT_BUDGET_MS = 4;

/**
 * Runs CPU-heavy work that does not have to be done at once (reading and encoding the history
 * of a session that a stream joins) in slices: queued slices run in order, a few milliseconds'
 * worth per turn of the event loop, and between turns other clients' requests are served. So a
 * client that joins large sessions in a loop, or many joining at once, delays the others by a
 * few milliseconds at most, however large the histories are; only the joins themselves slow down.
 */
export class SliceScheduler {
  private readonly queue: (() => void)[] = [];
  private scheduled = false;

  constructor(private readonly budgetMs = DEFAULT_BUDGET_MS) {}

  /** Runs `work` in a later turn, after the slices queued before it; resolves with its result. */
  run<T>(work: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push(() => {
        try {
          resolve(work());
        } catch (error) {
          reject(error);
        }
      });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.runSlices());
      }
    });
  }

  private runSlices(): void {
    const started = performance.now();
    for (let slice = this.queue.shift(); slice; slice = this.queue.shift()) {
      slice();
      if (performance.now() - started >= this.budgetMs) break;
    }
    // setImmediate, not a promise: I/O callbacks run before the next batch of slices.
    if (this.queue.length > 0) setImmediate(() => this.runSlices());
    else this.scheduled = false;
  }
}
