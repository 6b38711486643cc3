import { Gauge, type Registry } from 'prom-client';
import type { QueueStatistics, QueueStatisticsSource } from '../domain/queue-statistics';
import { cachedReading } from './cached-reading';

/** What the store tells at scrape time. */
export type StoreReadings = Readonly<{
  queueStatistics: QueueStatisticsSource;
  /** Bytes the database takes (SQLite: its file and WAL; PostgreSQL: the schema's tables and indexes). */
  databaseBytes: () => Promise<number>;
}>;

/** A scrape reads the database at most this often; scrapes in between get the same numbers. */
const READ_EVERY_MS = 1000;

/**
 * Gauges read from the database when Prometheus scrapes (so every instance on one PostgreSQL
 * database reports the same queue), at most once a second. If a read fails (the database is
 * unreachable: health says so), the gauges keep their last values rather than fail the scrape,
 * which would hide every other metric too.
 */
export function registerStoreGauges(registry: Registry, readings: StoreReadings, now: () => Date = () => new Date()): void {
  const registers = [registry];
  const statistics = cachedReading(() => readings.queueStatistics.queueStatistics(), READ_EVERY_MS);
  const size = cachedReading(readings.databaseBytes, READ_EVERY_MS);
  const fromStatistics = (set: (gauge: Gauge, stats: QueueStatistics) => void) =>
    function (this: Gauge): Promise<void> {
      return statistics().then((stats) => set(this, stats), () => {});
    };
  new Gauge({
    name: 'support_sessions_open',
    help: 'Open sessions, by state: awaiting an agent, or attended (an agent has it).',
    labelNames: ['state'],
    registers,
    collect: fromStatistics((gauge, stats) => {
      gauge.set({ state: 'awaiting' }, stats.awaitingCount);
      gauge.set({ state: 'attended' }, stats.attendedCount);
    }),
  });
  new Gauge({
    name: 'support_queue_length',
    help: 'Sessions in the awaiting queue.',
    registers,
    collect: fromStatistics((gauge, stats) => gauge.set(stats.awaitingCount)),
  });
  new Gauge({
    name: 'support_queue_oldest_wait_seconds',
    help: 'How long the session at the head of the awaiting queue has waited; 0 when none waits.',
    registers,
    collect: fromStatistics((gauge, stats) => {
      const since = stats.oldestAwaitingSince;
      gauge.set(since === undefined ? 0 : Math.max(0, (now().getTime() - since.getTime()) / 1000));
    }),
  });
  new Gauge({
    name: 'support_database_size_bytes',
    help: 'Bytes the database takes (SQLite: file and WAL; PostgreSQL: the tables and indexes of the schema).',
    registers,
    collect() {
      return size().then((bytes) => this.set(bytes), () => {});
    },
  });
}
