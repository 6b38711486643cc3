import type pg from 'pg';
import { ChatError } from '../../domain/chat-error';
import type { StoredSession } from '../../domain/session-store';

/** The columns of a session row the domain sees, as the queries below return them. */
export type StoredSessionRow = { id: string; customer: string; state: 'open' | 'ended'; last_seq: string };

export const RECORD_COLUMNS = 'id, customer, state, last_seq';

/**
 * A time at which a session joins the awaiting queue: `$n` (now), but never before a session
 * already waiting, so that the queue order never goes back with a clock (SPEC §2, clamped).
 */
export function queueTime(nowParameter: string): string {
  return `GREATEST(${nowParameter}::bigint, COALESCE((SELECT max(awaiting_since) FROM sessions WHERE state = 'open' AND awaiting_since IS NOT NULL) + 1, ${nowParameter}::bigint))`;
}

export function toRecord(row: StoredSessionRow): StoredSession {
  return { id: row.id, customerId: row.customer, state: row.state, lastSeq: Number(row.last_seq) };
}

/**
 * Runs `work` on one connection of `pool`. While it is checked out, a connection's 'error' event
 * (the database went away) would crash the process: it is listened to here, and the query under
 * way fails instead. A connection that failed is not given back to the pool.
 */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => (broken = error);
  client.on('error', onError);
  try {
    return await work(client);
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/** Runs `work` in a transaction on one connection of `pool`: COMMIT if it returns, ROLLBACK if it throws. */
export function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  });
}

/** The error for a write that found no open session `id`: missing (`not-found`) or ended (`failed-precondition`). */
export async function notOpenError(client: pg.ClientBase, id: string): Promise<ChatError> {
  const { rowCount } = await client.query('SELECT 1 FROM sessions WHERE id = $1', [id]);
  return rowCount ? new ChatError('failed-precondition', 'the session has ended') : new ChatError('not-found', 'no such session');
}
