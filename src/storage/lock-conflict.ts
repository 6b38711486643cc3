/** The first wait after a lock conflict; each further conflict doubles it, up to MAX_DELAY_MS. */
const FIRST_DELAY_MS = 5;
const MAX_DELAY_MS = 200;

/**
 * True for SQLite's answers that mean "another connection holds a lock you need" (SQLITE_BUSY,
 * SQLITE_LOCKED and their extended codes): the same work can succeed later, once it is released.
 */
export function isLockConflict(error: unknown): boolean {
  return /^SQLITE_(BUSY|LOCKED)(_|$)/.test(sqliteCode(error) ?? '');
}

/**
 * The SQLite result code of a better-sqlite3 error (`SQLITE_BUSY`, ...), or undefined. Not by
 * `instanceof`: the native addon keeps the SqliteError class of the first copy of the module
 * loaded in the process, which another module registry or realm (a jest test file) does not share.
 */
export function sqliteCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, code } = error as { name?: unknown; code?: unknown };
  return name === 'SqliteError' && typeof code === 'string' ? code : undefined;
}

/** The waits between attempts to get a lock: 5 ms, doubling up to 200 ms, and 5 ms again after a success. */
export class LockBackoff {
  private delay = FIRST_DELAY_MS;

  /** The wait before the next attempt. */
  next(): number {
    const delay = this.delay;
    this.delay = Math.min(2 * delay, MAX_DELAY_MS);
    return delay;
  }

  reset(): void {
    this.delay = FIRST_DELAY_MS;
  }
}

/**
 * Runs `work` (synchronous SQL) until it gets past lock conflicts, waiting between attempts
 * without blocking the event loop. Past `deadline` (a `performance.now()` time) it throws an
 * Error that says `what` could not be done because the database stayed locked.
 */
export async function retryWhileLocked<T>(work: () => T, deadline: number, what: string): Promise<T> {
  const backoff = new LockBackoff();
  const startedAt = performance.now();
  for (;;) {
    try {
      return work();
    } catch (error) {
      if (!isLockConflict(error)) throw error;
      const left = deadline - performance.now();
      if (left <= 0) {
        const waited = ((performance.now() - startedAt) / 1000).toFixed(1);
        throw new Error(`${what}: the database stayed locked by another connection for ${waited} s (an sqlite3 shell in a transaction?)`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(backoff.next(), left)));
    }
  }
}
