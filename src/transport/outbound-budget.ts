/** A stream's share of the budget: what it holds, and the two ways of making it let go. */
export interface BudgetHolder {
  /** Response bytes queued for the client or held by the transport, not yet written to the connection. */
  readonly unsentBytes: number;
  /** Whether the server has already ended the stream (its own queue is then empty). */
  readonly ended: boolean;
  /** Since when (performance.now()) it has held unsent bytes without any being written; undefined while it holds none. */
  readonly stalledSince: number | undefined;
  /** Ends the stream with RESOURCE_EXHAUSTED, dropping its queue. */
  endForBudget(): void;
  /** Resets the stream, freeing what its transport still holds. */
  resetForBudget(): void;
}

/** A stream whose bytes have not moved for this long is holding them, not receiving them. */
export const STALLED_AFTER_MS = 250;

/**
 * The server-wide budget for response bytes waiting for clients (SPEC §6 --max-buffered-bytes):
 * each stream bounds its own queue, and this bounds them all together. When a stream's new
 * response passes it, what streams the server already ended still hold in their transport is
 * freed first (they are reset); then the streams holding the most unsent bytes are ended (they
 * resume and find everything in the history), those whose bytes have not moved for a while
 * first, and reset if their transport holds too much. A client that reads may hold as much for a
 * moment (a whole history it is being sent), but its bytes move: it is cut for others only if
 * cutting every stalled stream was not enough.
 */
export class OutboundBudget {
  private total = 0;
  private readonly holders = new Set<BudgetHolder>();

  constructor(
    private readonly maxBytes: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  join(holder: BudgetHolder): void {
    this.holders.add(holder);
  }

  leave(holder: BudgetHolder): void {
    this.holders.delete(holder);
  }

  /** Counts `bytes` more; relieves the budget at once if it is passed. */
  add(bytes: number): void {
    this.total += bytes;
    if (this.total > this.maxBytes) this.relieve();
  }

  release(bytes: number): void {
    this.total -= bytes;
  }

  /** Bytes held over every stream. */
  get bytes(): number {
    return this.total;
  }

  private relieve(): void {
    const largestFirst = [...this.holders].sort((a, b) => b.unsentBytes - a.unsentBytes);
    const stalled = (holder: BudgetHolder) => holder.stalledSince !== undefined && this.now() - holder.stalledSince >= STALLED_AFTER_MS;
    // Streams already ended hold only what their transport could not write yet: freed first.
    this.cut(largestFirst, (holder) => holder.ended, (holder) => holder.resetForBudget());
    this.cut(largestFirst, (holder) => !holder.ended && stalled(holder), (holder) => holder.endForBudget());
    this.cut(largestFirst, (holder) => !holder.ended, (holder) => holder.endForBudget());
    this.cut(largestFirst, () => true, (holder) => holder.resetForBudget());
  }

  /** Applies `cut` to the holders that `eligible` picks, in order, until the budget is kept. */
  private cut(holders: readonly BudgetHolder[], eligible: (holder: BudgetHolder) => boolean, cut: (holder: BudgetHolder) => void): void {
    for (const holder of holders) {
      if (this.total <= this.maxBytes) return;
      if (holder.unsentBytes > 0 && eligible(holder)) cut(holder);
    }
  }
}
