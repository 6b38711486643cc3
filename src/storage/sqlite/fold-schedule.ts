/** When the store folds its log's tail (see entry-log-fold.ts): after this many entries, or this long after the first unfolded one. */
export type FoldPolicy = Readonly<{ everyEntries: number; everyMs: number }>;

/**
 * Measured with `node dist/bench/storage-floor.js --fold-sweep` (BENCHMARKS.md, issue 14): a fold
 * every 4,096 entries keeps the store under 4 µs per entry at one entry per session per commit
 * (every 512: about 7; every 65,536: 3.0), while the tail, which every history read scans (and
 * the first write to a session the store does not have in memory), costs a page read under about
 * 0.1 ms. The second bounds the tail at low rates, and what start-up folds after a crash.
 */
export const DEFAULT_FOLD_POLICY: FoldPolicy = { everyEntries: 4096, everyMs: 1000 };

/**
 * Runs `fold` once `everyEntries` entries were appended since the last fold (in a later turn of the
 * event loop, after the batch that reached the count has committed), or `everyMs` after the first
 * of them, whichever comes first. A fold that fails (another connection holds the write lock) is
 * reported and tried again `everyMs` later: until then reads scan a longer tail, nothing else.
 */
export class FoldSchedule {
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  /** The last fold failed: the next try waits for the timer, not for the count (or a locked database would be tried every turn). */
  private retrying = false;

  constructor(
    private readonly fold: () => void,
    private readonly onFailure: (error: unknown) => void,
    private readonly policy: FoldPolicy = DEFAULT_FOLD_POLICY,
  ) {}

  /** One entry was appended (or was being appended by a batch that may still roll back). */
  appended(): void {
    this.pending++;
    if (this.timer === undefined) this.timer = setTimeout(() => this.run(), this.policy.everyMs).unref();
    if (this.pending >= this.policy.everyEntries && this.soon === undefined && !this.retrying) this.soon = setImmediate(() => this.run());
  }

  /** Folds now (before a sweep, at close); false if it failed. */
  run(): boolean {
    this.stop();
    try {
      this.fold();
      this.pending = 0;
      this.retrying = false;
      return true;
    } catch (error) {
      this.onFailure(error);
      this.retrying = true;
      this.timer = setTimeout(() => this.run(), this.policy.everyMs).unref();
      return false;
    }
  }

  /** Cancels the folds scheduled (the store is closing). */
  stop(): void {
    clearTimeout(this.timer);
    clearImmediate(this.soon);
    this.timer = undefined;
    this.soon = undefined;
  }
}
