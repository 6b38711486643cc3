import type Database from 'better-sqlite3';
import { ChatError } from '../domain/chat-error';

/** A queued write; `failure` is set once its work threw a ChatError (it then fails alone). */
type Pending = {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  result?: unknown;
  failure?: { error: unknown };
};

/** What a store does around each batch: last writes inside its transaction, and forgetting after a rollback. */
export type BatchHooks = Readonly<{ beforeCommit: () => void; afterRollback: () => void }>;

/**
 * Group commit: writes queued during one turn of the event loop run in a single transaction at
 * its end, and their promises settle in queue order only after COMMIT. Callers publish only then,
 * so nothing uncommitted is ever delivered; meanwhile a commit (and, with synchronous=FULL, an
 * fsync) is paid once per batch instead of once per message.
 *
 * A work item may throw a ChatError (a broken rule) only before it writes anything: that item
 * fails alone. Any other error rolls the batch back, and its items are retried one transaction
 * each, so that only the faulty one fails.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private readonly runInTransaction: (batch: Pending[]) => void;

  constructor(
    db: Database.Database,
    private readonly hooks: BatchHooks,
  ) {
    this.runInTransaction = db.transaction((batch: Pending[]) => {
      for (const item of batch) attempt(item);
      hooks.beforeCommit();
    }).immediate;
  }

  private closed = false;

  /** Queues `work` (synchronous SQL) for the next batch; resolves with its result after COMMIT. */
  run<T>(work: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new ChatError('unavailable', 'the server is shutting down'));
    return new Promise<T>((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject, result: undefined, failure: undefined });
    });
  }

  /** Commits what is queued now, and refuses later writes (before the database closes). */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    try {
      this.runInTransaction(batch);
    } catch {
      this.hooks.afterRollback();
      for (const item of batch) this.alone(item);
    }
    for (const item of batch) {
      if (item.failure) item.reject(item.failure.error);
      else item.resolve(item.result);
    }
  }

  private alone(item: Pending): void {
    item.failure = undefined;
    try {
      this.runInTransaction([item]);
    } catch (error) {
      this.hooks.afterRollback();
      item.failure = { error };
    }
  }
}

function attempt(item: Pending): void {
  try {
    item.result = item.work();
  } catch (error) {
    if (!(error instanceof ChatError)) throw error;
    item.failure = { error };
  }
}
