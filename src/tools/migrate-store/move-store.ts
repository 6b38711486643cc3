import path from 'node:path';
import { redactedUrl } from '../../storage/postgres/postgres-connection';
import { copyInBatches, type BatchLimits } from './copy-in-batches';
import type { MigrateStoreOptions } from './options';
import { PostgresTarget } from './postgres-target';
import { Progress } from './progress';
import { SqliteSource, type SessionRow, type SourceCounts } from './sqlite-source';

/** What a move copied. */
export type MoveSummary = Readonly<{ sessions: number; entries: number; seconds: number }>;

/** Characters of message text in one batch of entries (memory: two batches are held at once). */
const BATCH_TEXT_CHARS = 4 * 1024 * 1024;

/**
 * Copies every session, entry and participant of a stopped server's SQLite database into an empty PostgreSQL
 * store (SPEC §8), in one transaction of the target: a failure at any point leaves the target
 * as it was (its schema created, no session in it). The source is held with the server lock for
 * the whole move and only read. `report` gets the progress lines; nothing it is given holds the
 * target's password.
 */
export async function moveStore(options: MigrateStoreOptions, report: (line: string) => void): Promise<MoveSummary> {
  const startedAt = performance.now();
  const where = `sqlite:${path.resolve(options.sqliteFile)} to ${redactedUrl(options.postgresUrl)} (schema ${options.pgSchema})`;
  report(`moving ${where}`);
  const source = await SqliteSource.lock(options.sqliteFile);
  try {
    const target = await PostgresTarget.open({ url: options.postgresUrl, schema: options.pgSchema });
    try {
      report(`target schema ${options.pgSchema} ready (version ${target.version})`);
      await target.begin();
      const counts = source.open();
      report(`source holds ${counts.sessions} sessions and ${counts.entries} entries; ${counts.attended} attended sessions will await an agent`);
      const limits: BatchLimits = { rows: options.batchRows, textChars: BATCH_TEXT_CHARS };
      const requeueAt = requeueTime(counts, Date.now());
      const moved = map(source.sessions(), (row) => asMoved(row, requeueAt));
      await copyTable('sessions', counts.sessions, report, (onWritten) => copyInBatches(moved, limits, () => 0, (batch) => target.insertSessions(batch), onWritten));
      await copyTable('entries', counts.entries, report, (onWritten) =>
        copyInBatches(source.entries(), limits, (e) => e.text.length, (batch) => target.insertEntries(batch), onWritten),
      );
      await copyTable('participants', counts.participants, report, (onWritten) =>
        copyInBatches(source.participants(), limits, () => 0, (batch) => target.insertParticipants(batch), onWritten),
      );
      await target.commit(counts);
      const summary = { sessions: counts.sessions, entries: counts.entries, seconds: (performance.now() - startedAt) / 1000 };
      report(`done: moved ${summary.sessions} sessions and ${summary.entries} entries in ${summary.seconds.toFixed(1)} s`);
      return summary;
    } finally {
      await target.close();
    }
  } finally {
    source.close();
  }
}

/** One table's copy, with its progress lines; a failure says how far it got. */
async function copyTable(what: string, total: number, report: (line: string) => void, copy: (onWritten: (n: number) => void) => Promise<number>): Promise<void> {
  const progress = new Progress(what, total, report);
  let written = 0;
  try {
    progress.done(await copy((n) => progress.update((written = n))));
  } catch (error) {
    throw new Error(`copying ${what}, after ${written} of ${total}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * When the sessions that had agents join the queue. No stream survives a move, so they are
 * requeued as a SQLite restart requeues them (SPEC §2, §5): behind every session already awaiting,
 * at one time, so that their order of creation (the key) breaks the tie.
 */
function requeueTime(counts: SourceCounts, now: number): number {
  return counts.latestAwaitingSince === null ? now : Math.max(now, counts.latestAwaitingSince + 1);
}

/** The session as it is after the move: an attended one (open, not awaiting) awaits from `requeueAt`. */
function asMoved(row: SessionRow, requeueAt: number): SessionRow {
  return row.state === 'open' && row.awaiting_since === null ? { ...row, awaiting_since: requeueAt } : row;
}

function* map<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}
