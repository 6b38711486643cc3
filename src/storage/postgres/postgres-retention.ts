import type pg from 'pg';
import type { RetentionBatch, RetentionCursor, RetentionStore } from '../../domain/retention';
import { unlessUnavailable } from './postgres-connection';
import { inTransaction } from './postgres-queries';

/**
 * Retention on PostgreSQL: each batch is one short transaction. Ended sessions are written by no
 * one, so their rows' locks hold up no live write. Every instance runs the job; a batch that finds
 * another instance's batch under way (an advisory lock) ends the pass on this one, so that only
 * one instance deletes at a time.
 */
export class PostgresRetention implements RetentionStore {
  constructor(private readonly pool: pg.Pool) {}

  deleteEnded(endedBefore: Date, from: RetentionCursor, maxRows: number): Promise<RetentionBatch> {
    return unlessUnavailable(() =>
      inTransaction(this.pool, async (client) => {
        const { rows: lock } = await client.query<{ mine: boolean }>("SELECT pg_try_advisory_xact_lock(hashtext('support-retention:' || current_schema())) AS mine");
        if (!lock[0]!.mine) return { sessions: 0, entries: 0, next: undefined };
        let budget = maxRows;
        let sessions = 0;
        let entries = 0;
        let next = from;
        while (budget > 0) {
          const { rows } = await client.query<{ pk: string }>(
            "SELECT pk FROM sessions WHERE pk >= $1 AND state = 'ended' AND ended_at <= $2 ORDER BY pk LIMIT 1",
            [next, endedBefore.getTime()],
          );
          if (!rows[0]) return { sessions, entries, next: undefined };
          const pk = Number(rows[0].pk);
          const deleted = await deleteEntries(client, pk, budget);
          entries += deleted;
          budget -= deleted;
          next = pk;
          if (budget === 0) break; // it may have more entries: the next batch starts with it
          await client.query('DELETE FROM attendance WHERE session_pk = $1', [pk]);
          await client.query('DELETE FROM participants WHERE session_pk = $1', [pk]);
          await client.query("DELETE FROM sessions WHERE pk = $1 AND state = 'ended'", [pk]);
          sessions++;
          budget--;
          next = pk + 1;
        }
        return { sessions, entries, next };
      }),
    );
  }
}

/** The one statement that deletes entries: up to `limit` of one session's, oldest first. */
async function deleteEntries(client: pg.ClientBase, sessionPk: number, limit: number): Promise<number> {
  const { rowCount } = await client.query(
    'DELETE FROM entries WHERE session_pk = $1 AND seq IN (SELECT seq FROM entries WHERE session_pk = $1 ORDER BY seq LIMIT $2)',
    [sessionPk, limit],
  );
  return rowCount ?? 0;
}
