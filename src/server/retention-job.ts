import type { Metrics } from '../domain/metrics';
import { deleteEndedSessions, type RetentionPace, type RetentionStore } from '../domain/retention';
import type { Logger } from '../log/logger';

/** How often a pass runs after the first (at start-up): sessions cross the line continuously, a pass an hour keeps up. */
const PASS_EVERY_MS = 60 * 60 * 1000;
/**
 * Batches of 500 rows (about a millisecond of deletions in one commit), 100 ms apart: a million
 * entries go in three and a half minutes. Faster passes hurt live traffic more than the batches'
 * length suggests: on SQLite, the pages they free fill the WAL, and every ~1,000 pages a commit
 * also checkpoints (tens of ms); at 10 ms apart that was a stall a second, and the live p99 rose
 * several times over (BENCHMARKS.md, "Retention's cost").
 */
export const RETENTION_PACE: RetentionPace = { batchRows: 500, pauseMs: 100 };

export type RetentionSchedule = Readonly<{
  /** The wall clock (tests put it days ahead). */
  now: () => Date;
  /** Between passes. */
  everyMs: number;
  pace: RetentionPace;
}>;

export const DEFAULT_RETENTION_SCHEDULE: RetentionSchedule = { now: () => new Date(), everyMs: PASS_EVERY_MS, pace: RETENTION_PACE };

/**
 * --retention-days: at start-up and then every `everyMs`, deletes the sessions that ended more than
 * `days` days before now, with their entries, in small batches (domain/retention.ts), counting
 * them in the metrics. A pass is never overlapped by the next. Returns a function that stops it
 * (a pass under way stops after its current batch).
 */
export function startRetentionJob(store: RetentionStore, days: number, schedule: RetentionSchedule, metrics: Metrics, logger: Logger): () => void {
  let running = false;
  let stopped = false;
  const pass = async () => {
    if (running || stopped) return;
    running = true;
    try {
      const endedBefore = new Date(schedule.now().getTime() - days * 24 * 60 * 60 * 1000);
      const onBatch = ({ sessions, entries }: { sessions: number; entries: number }) => metrics.retentionDeleted(sessions, entries);
      const deleted = await deleteEndedSessions(store, endedBefore, schedule.pace, onBatch, () => stopped);
      if (deleted.sessions + deleted.entries > 0) logger.info('retention deleted ended sessions', { sessions: deleted.sessions, entries: deleted.entries, ended_before: endedBefore.toISOString() });
    } catch (err) {
      if (!stopped) logger.error('retention pass failed', { error: err instanceof Error ? err.stack : String(err) });
    } finally {
      running = false;
    }
  };
  void pass();
  const timer = setInterval(() => void pass(), schedule.everyMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
