import type Database from 'better-sqlite3';
import { ChatError } from '../domain/chat-error';

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
type Pending = { work: () => unknown; settle: (outcome: Outcome) => void };

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
  private readonly runInTransaction: (batch: Pending[]) => Outcome[];

  constructor(
    db: Database.Database,
    private readonly hooks: BatchHooks,
  ) {
    this.runInTransaction = db.transaction((batch: Pending[]) => {
      const outcomes = batch.map(attempt);
      hooks.beforeCommit();
      return outcomes;
    }).immediate;
  }

  private closed = false;

  /** Queues `work` (synchronous SQL) for the next batch; resolves with its result after COMMIT. */
  run<T>(work: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new ChatError('unavailable', 'the server is shutting down'));
    return new Promise<T>((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ work, settle: (outcome) => (outcome.ok ? resolve(outcome.value as T) : reject(outcome.error)) });
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
    let outcomes: Outcome[];
    try {
      outcomes = this.runInTransaction(batch);
    } catch {
      this.hooks.afterRollback();
      outcomes = batch.map((item) => this.alone(item));
    }
    batch.forEach((item, i) => item.settle(outcomes[i]!));
  }

  private alone(item: Pending): Outcome {
    try {
      return this.runInTransaction([item])[0]!;
    } catch (error) {
      this.hooks.afterRollback();
      return { ok: false, error };
    }
  }
}

function attempt(item: Pending): Outcome {
  try {
    return { ok: true, value: item.work() };
  } catch (error) {
    if (error instanceof ChatError) return { ok: false, error };
    throw error;
  }
}
