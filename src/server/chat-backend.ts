import type pg from 'pg';
import { InProcessAttachments } from '../attachments/in-process-attachments';
import { PostgresAttachments } from '../attachments/postgres-attachments';
import { InProcessEventBus } from '../bus/in-process-event-bus';
import { PostgresEventBus } from '../bus/postgres-event-bus';
import { InProcessQueueEvents } from '../bus/in-process-queue-events';
import { PostgresQueueEvents } from '../bus/postgres-queue-events';
import type { Config } from '../config/config';
import type { Attachments } from '../domain/attachments';
import type { EventBus } from '../domain/event-bus';
import type { QueueEvents } from '../domain/queue-events';
import type { QueueStatisticsSource } from '../domain/queue-statistics';
import type { SessionAdministration } from '../domain/session-administration';
import type { SessionRanges } from '../domain/session-ranges';
import type { Metrics } from '../domain/metrics';
import type { RetentionStore } from '../domain/retention';
import type { SessionStore } from '../domain/session-store';
import type { Logger } from '../log/logger';
import { InstanceLease, type RequeuedSession } from '../storage/postgres/instance-lease';
import { PostgresChannel } from '../storage/postgres/postgres-channel';
import { createPool, redactedUrl, type PostgresLocation } from '../storage/postgres/postgres-connection';
import { migratePostgres } from '../storage/postgres/postgres-migrations';
import { PostgresQueueStatistics } from '../storage/postgres/postgres-queue-statistics';
import { PostgresSessionAdministration } from '../storage/postgres/postgres-session-administration';
import { PostgresSessionRanges } from '../storage/postgres/postgres-session-ranges';
import { PostgresSessionStore } from '../storage/postgres/postgres-session-store';
import { SqliteQueueStatistics } from '../storage/sqlite-queue-statistics';
import { SqliteSessionAdministration } from '../storage/sqlite-session-administration';
import { SqliteSessionRanges } from '../storage/sqlite-session-ranges';
import { postgresDatabaseBytes } from '../storage/postgres/postgres-database-size';
import { PostgresRetention } from '../storage/postgres/postgres-retention';
import { sqliteDatabaseBytes } from '../storage/sqlite-database-size';
import { SqliteRetention } from '../storage/sqlite-retention';
import { openStore } from './open-store';

/** Connections of an instance's pool (its LISTEN connection aside). */
const POSTGRES_POOL_SIZE = 8;
/** How often an instance on PostgreSQL checks that the database answers (health). */
const DATABASE_CHECK_MS = 1_000;

/** The store, bus and attachments of one server process, for SQLite or PostgreSQL, and their lifecycle. */
export type ChatBackend = Readonly<{
  store: SessionStore;
  bus: EventBus & { readonly subscribedSessionCount: number };
  attachments: Attachments;
  /** The queue's changes, to every instance's watchers (the admin service's WatchQueue). */
  queue: QueueEvents;
  /** The queue's counts as the database has them (metrics, the admin service). */
  queueStatistics: QueueStatisticsSource;
  /** The admin service's reads, participants and erasure. */
  administration: SessionAdministration;
  /** The sessions of a time range, a page at a time (transcript exports). */
  ranges: SessionRanges;
  /** Bytes the database takes (metrics). */
  databaseBytes: () => Promise<number>;
  /** Deletes ended sessions in small batches (--retention-days). */
  retention: RetentionStore;
  /** For the start line: which store and bus, without credentials. */
  description: Readonly<Record<string, string>>;
  /** Calls `onChange` whenever the database becomes reachable or unreachable (health). */
  watchDatabase: (onChange: (reachable: boolean) => void) => void;
  /** Releases what this instance holds (its lease), then closes the store. */
  close: () => Promise<void>;
}>;

/** What the backend tells the server: this instance's lease was lost (its streams are no longer attached). */
export type BackendEvents = Readonly<{ onLeaseLost: () => void }>;

const errorText = (error: unknown) => (error instanceof Error ? error.stack ?? error.message : String(error));

/** Opens the store that `config` names (SPEC §8), with the bus and attachments that go with it; the store reports its commits to `metrics`. */
export function openChatBackend(config: Config, logger: Logger, instanceId: string, events: BackendEvents, metrics: Metrics): Promise<ChatBackend> {
  return config.store.startsWith('sqlite:') ? openSqliteBackend(config, logger, metrics) : openPostgresBackend(config, logger, instanceId, events, metrics);
}

async function openSqliteBackend(config: Config, logger: Logger, metrics: Metrics): Promise<ChatBackend> {
  const { store, db, closeStore } = await openStore(config, logger, metrics);
  return {
    store,
    bus: new InProcessEventBus(listenerErrorLogger(logger)),
    attachments: new InProcessAttachments(store),
    queue: new InProcessQueueEvents(watcherErrorLogger(logger)),
    queueStatistics: new SqliteQueueStatistics(db),
    administration: new SqliteSessionAdministration(db, store.housekeeping),
    ranges: new SqliteSessionRanges(db, store.housekeeping),
    databaseBytes: async () => sqliteDatabaseBytes(db),
    retention: new SqliteRetention(db, store.housekeeping),
    description: { store: config.store, bus: 'local' },
    watchDatabase: () => {},
    close: async () => closeStore(),
  };
}

async function openPostgresBackend(config: Config, logger: Logger, instanceId: string, events: BackendEvents, metrics: Metrics): Promise<ChatBackend> {
  const location: PostgresLocation = { url: config.store, schema: config.pgSchema };
  const pool = createPool(location, POSTGRES_POOL_SIZE);
  const reportError = (error: unknown) => logger.error('a database step failed', { error: errorText(error) });
  try {
    const migrations = await migratePostgres(pool, config.pgSchema);
    logger.info('database ready', { store: redactedUrl(config.store), schema: config.pgSchema, schema_version: migrations.version, migrations_applied: migrations.applied.join(',') });
    const channel = new PostgresChannel(location, pool, reportError);
    await channel.open();
    const queue = config.bus === 'postgres' ? new PostgresQueueEvents(instanceId, channel, watcherErrorLogger(logger)) : new InProcessQueueEvents(watcherErrorLogger(logger));
    const requeued = (sessions: readonly RequeuedSession[]) => {
      for (const { id, customerId } of sessions) queue.publish({ kind: 'waiting', sessionId: id, customerId, at: new Date() });
    };
    const lease = new InstanceLease(pool, instanceId, config.instanceLeaseSeconds, events.onLeaseLost, reportError, requeued);
    await lease.start();
    let stopWatching = () => {};
    const bus = config.bus === 'postgres' ? new PostgresEventBus(instanceId, pool, channel, reportError) : new InProcessEventBus(listenerErrorLogger(logger));
    return {
      store: new PostgresSessionStore(pool, metrics),
      bus,
      attachments: new PostgresAttachments(instanceId, pool, channel),
      queue,
      queueStatistics: new PostgresQueueStatistics(pool),
      administration: new PostgresSessionAdministration(pool),
      ranges: new PostgresSessionRanges(pool),
      databaseBytes: () => postgresDatabaseBytes(pool),
      retention: new PostgresRetention(pool),
      description: { store: redactedUrl(config.store), pg_schema: config.pgSchema, bus: config.bus, instance: instanceId },
      watchDatabase: (onChange) => (stopWatching = watchDatabase(pool, channel, onChange)),
      close: async () => {
        stopWatching();
        if (bus instanceof PostgresEventBus) bus.close();
        await lease.release().catch(reportError);
        await channel.close();
        await pool.end();
      },
    };
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
}

/** Checks every second that the database answers and the channel listens; says when that changes. Returns a function that stops it. */
function watchDatabase(pool: pg.Pool, channel: PostgresChannel, onChange: (reachable: boolean) => void): () => void {
  let reachable = true;
  const check = async () => {
    const now = channel.live && (await pool.query('SELECT 1').then(() => true, () => false));
    if (now !== reachable) onChange((reachable = now));
  };
  const timer = setInterval(() => void check(), DATABASE_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

function listenerErrorLogger(logger: Logger) {
  return (error: unknown, sessionId: string) => logger.error('a live stream failed to take an event', { session: sessionId, error: errorText(error) });
}

function watcherErrorLogger(logger: Logger) {
  return (error: unknown) => logger.error('a watch of the queue failed to take an event', { error: errorText(error) });
}
