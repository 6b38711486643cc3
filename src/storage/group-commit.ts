import type Database from 'better-sqlite3';
import { ChatError } from '../domain/chat-error';
import { isLockConflict, LockBackoff } from './lock-conflict';

/** How long a write may wait for a write lock held by another connection before it fails with UNAVAILABLE. */
export const MAX_LOCK_WAIT_MS = 5000;

/** A queued write; `failure` is set once its work threw a ChatError (it then fails alone). */
type Pending = {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** `performance.now()` when queued: the write gives up on a locked database MAX_LOCK_WAIT_MS later. */
  queuedAt: number;
  result?: unknown;
  failure?: { error: unknown } | undefined;
};

/**
 * What a store does around each batch: last writes inside its transaction, forgetting after a
 * rollback, and (metrics) learning of each batch committed: its writes and how long it took.
 */
export type BatchHooks = Readonly<{ beforeCommit?: () => void; afterRollback: () => void; committed?: (writes: number, seconds: number) => void }>;

/**
 * Group commit: writes queued during one turn of the event loop run in a single transaction at
 * its end, and their promises settle in queue order only after COMMIT. Callers publish only then,
 * so nothing uncommitted is ever delivered; meanwhile a commit (and, with synchronous=FULL, an
 * fsync) is paid once per batch instead of once per message.
 *
 * A work item may throw a ChatError (a broken rule) only before it writes anything: that item
 * fails alone. Any other error rolls the batch back, and its items are retried one transaction
 * each, so that only the faulty one fails.
 *
 * While another connection holds the write lock (the database's busy_timeout is a few ms, so an
 * attempt fails fast), the batch stays at the head of the queue, later writes queue behind it,
 * and the whole queue is tried again after a growing pause (lock-conflict.ts) that lets the event
 * loop serve everything else. A write that has waited `maxLockWaitMs` fails with UNAVAILABLE.
 */
export class GroupCommit {
  /** Not yet committed, in order; never empty while a flush is scheduled, and vice versa. */
  private queue: Pending[] = [];
  private readonly runInTransaction: (batch: Pending[]) => void;
  private readonly backoff = new LockBackoff();
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    db: Database.Database,
    private readonly hooks: BatchHooks,
    private readonly maxLockWaitMs = MAX_LOCK_WAIT_MS,
  ) {
    const transaction = db.transaction((batch: Pending[]) => {
      for (const item of batch) attempt(item);
      hooks.beforeCommit?.();
    });
    this.runInTransaction = (batch) => transaction.immediate(batch);
  }

  /** Queues `work` (synchronous SQL) for the next batch; resolves with its result after COMMIT. */
  run<T>(work: () => T): Promise<T> {
    if (this.closed) return Promise.reject(shuttingDown());
    return new Promise<T>((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      const item = { work, resolve: resolve as (value: unknown) => void, reject, queuedAt: performance.now(), result: undefined, failure: undefined };
      this.queue.push(item);
    });
  }

  /**
   * Commits what is queued now if the database lets it at once, fails what still waits for the
   * lock with UNAVAILABLE, and refuses later writes (before the database closes).
   */
  close(): void {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.flush();
    this.closed = true;
    clearTimeout(this.retryTimer);
    const waiting = this.queue;
    this.queue = [];
    for (const item of waiting) item.reject(shuttingDown());
  }

  private flush(): void {
    this.retryTimer = undefined;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const startedAt = performance.now();
    const error = this.tryCommit(batch);
    if (error === undefined) {
      this.hooks.committed?.(batch.length, (performance.now() - startedAt) / 1000);
      return this.settled(batch);
    }
    if (isLockConflict(error)) return this.waitForLock(batch);
    // Something in the batch is faulty: find it by committing each item alone, in order.
    for (let i = 0; i < batch.length; i++) {
      const itemError = this.tryCommit([batch[i]!]);
      if (isLockConflict(itemError)) {
        this.settled(batch.slice(0, i));
        return this.waitForLock(batch.slice(i));
      }
      if (itemError !== undefined) batch[i]!.failure = { error: itemError };
    }
    this.settled(batch);
  }

  /** Runs `batch` in one transaction; returns what made it roll back (nothing was committed then). */
  private tryCommit(batch: Pending[]): unknown {
    try {
      this.runInTransaction(batch);
      this.backoff.reset();
      return undefined;
    } catch (error) {
      // Also when BEGIN itself failed: forgetting costs a few reads, keeping stale counters costs correctness.
      this.hooks.afterRollback();
      return error;
    }
  }

  /** Puts `waiting` back at the head of the queue, fails those that waited too long, and schedules a retry. */
  private waitForLock(waiting: Pending[]): void {
    const now = performance.now();
    let expired = 0;
    while (expired < waiting.length && now - waiting[expired]!.queuedAt >= this.maxLockWaitMs) expired++;
    this.queue = waiting.slice(expired).concat(this.queue);
    for (const item of waiting.slice(0, expired)) {
      item.reject(new ChatError('unavailable', 'the database is locked by another process; try again shortly'));
    }
    if (this.queue.length === 0) return;
    // Not later than the moment the oldest write gives up, so that it fails on time.
    const untilOldestExpires = this.queue[0]!.queuedAt + this.maxLockWaitMs - now;
    this.retryTimer = setTimeout(() => this.flush(), Math.max(0, Math.min(this.backoff.next(), untilOldestExpires)));
  }

  private settled(batch: Pending[]): void {
    for (const item of batch) {
      if (item.failure) item.reject(item.failure.error);
      else item.resolve(item.result);
    }
  }
}

function attempt(item: Pending): void {
  item.failure = undefined; // from an attempt that was rolled back
  try {
    item.result = item.work();
  } catch (error) {
    if (!(error instanceof ChatError)) throw error;
    item.failure = { error };
  }
}

function shuttingDown(): ChatError {
  return new ChatError('unavailable', 'the server is shutting down');
}
