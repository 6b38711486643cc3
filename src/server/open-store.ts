import type Database from 'better-sqlite3';
import type { Config } from '../config/config';
import type { Metrics } from '../domain/metrics';
import type { Logger } from '../log/logger';
import { retryWhileLocked } from '../storage/lock-conflict';
import { openDatabase } from '../storage/open-database';
import { acquireServerLock } from '../storage/server-lock';
import { SqliteSessionStore } from '../storage/sqlite-session-store';

/** Start-up writes (migrations, the requeue) wait together at most this long for another connection's write lock. */
const STARTUP_LOCK_WAIT_MS = 10_000;

/**
 * The server's store, its database connection (for read-only companions of the store: queue
 * statistics), and how to close it at shutdown (the database, then the server lock).
 */
export type OpenedStore = Readonly<{ store: SqliteSessionStore; db: Database.Database; closeStore: () => void }>;

/**
 * Takes the database for this server alone (server-lock.ts: refused with DatabaseInUseError,
 * before anything is opened or written, if another live server holds it), opens and migrates
 * it, and puts the sessions whose agents left with the last server back in the queue (SPEC §5).
 * While another connection holds the write lock, start-up waits for it without blocking, then
 * fails with one error naming the database.
 */
export async function openStore(config: Config, logger: Logger, metrics: Metrics): Promise<OpenedStore> {
  const lock = await acquireServerLock(config.db);
  try {
    const { store, db } = await openAndRequeue(config, logger, metrics);
    const closeStore = () => {
      try {
        store.close();
      } finally {
        lock.release(); // only once the database is closed
      }
    };
    return { store, db, closeStore };
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function openAndRequeue(config: Config, logger: Logger, metrics: Metrics): Promise<{ store: SqliteSessionStore; db: Database.Database }> {
  const deadline = performance.now() + STARTUP_LOCK_WAIT_MS;
  const open = () => openDatabase({ file: config.db, sync: config.sqliteSync });
  const { db, migrations, foldedAtOpen } = await retryWhileLocked(open, deadline, `opening the database ${config.db}`);
  logger.info('database ready', { db: config.db, schema_version: migrations.version, migrations_applied: migrations.applied.join(','), entries_folded: foldedAtOpen });
  const store = new SqliteSessionStore(db, { metrics, onFoldFailure: (error) => logger.warn('folding the entry log failed; retrying shortly', { error: String(error) }) });
  try {
    const requeue = () => store.requeueAttendedSessions(new Date());
    const requeued = await retryWhileLocked(requeue, deadline, `requeueing the sessions of ${config.db}`);
    if (requeued > 0) logger.info('sessions back in the queue after restart', { sessions: requeued });
    return { store, db };
  } catch (err) {
    store.close();
    throw err;
  }
}
