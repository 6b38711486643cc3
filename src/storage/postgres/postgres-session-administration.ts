import type pg from 'pg';
import type { CustomerErasure, ListPosition, SessionAdministration, SessionFilter, SessionPage, SessionSummary } from '../../domain/session-administration';
import { listingQuery, SUMMARY_COLUMNS, toPage, toSummary, type SummaryRow } from '../session-listing';
import { unlessUnavailable } from './postgres-connection';
import { inTransaction } from './postgres-queries';

type ErasedSession = { pk: string; id: string; state: 'open' | 'ended'; last_seq: string };

/**
 * The admin service's storage on PostgreSQL, shared by every instance. An erasure is one
 * transaction that locks the customer's session rows first (as every write to a session does),
 * so a stream attaching or an entry being written meanwhile either comes before it or finds no
 * session. Deleted rows are invisible to every query at once; their bytes stay in the table
 * files until (auto)vacuum reclaims the space, as with any DELETE in PostgreSQL.
 */
export class PostgresSessionAdministration implements SessionAdministration {
  constructor(private readonly pool: pg.Pool) {}

  async listSessions(filter: SessionFilter, limit: number, after: ListPosition | undefined): Promise<SessionPage> {
    const { sql, parameters } = listingQuery(filter, after, limit + 1, (n) => `$${n}`);
    const { rows } = await unlessUnavailable(() => this.pool.query<SummaryRow>(sql, parameters));
    return toPage(rows, limit);
  }

  async describeSession(sessionId: string): Promise<SessionSummary | undefined> {
    const { rows } = await unlessUnavailable(() => this.pool.query<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM sessions WHERE id = $1`, [sessionId]));
    return rows[0] && toSummary(rows[0]);
  }

  async participants(sessionId: string): Promise<string[]> {
    const { rows } = await unlessUnavailable(() =>
      this.pool.query<{ agent: string }>(
        'SELECT agent FROM participants WHERE session_pk = (SELECT pk FROM sessions WHERE id = $1) ORDER BY first_attached_at, agent',
        [sessionId],
      ),
    );
    return rows.map((row) => row.agent);
  }

  eraseCustomer(customerId: string): Promise<CustomerErasure> {
    return unlessUnavailable(() =>
      inTransaction(this.pool, async (client) => {
        const { rows: sessions } = await client.query<ErasedSession>(
          'SELECT pk, id, state, last_seq FROM sessions WHERE customer = $1 ORDER BY pk FOR UPDATE',
          [customerId],
        );
        const pks = sessions.map((s) => s.pk);
        const entries = await deleteEntries(client, pks);
        await client.query('DELETE FROM participants WHERE session_pk = ANY($1)', [pks]);
        // The streams attached to them (on any instance) are ended by the caller, through the bus.
        await client.query('DELETE FROM attendance WHERE session_pk = ANY($1)', [pks]);
        await client.query('DELETE FROM sessions WHERE pk = ANY($1)', [pks]);
        return {
          sessions: sessions.length,
          entries,
          sessionIds: sessions.map((s) => s.id),
          ended: sessions.filter((s) => s.state === 'open').map((s) => ({ id: s.id, lastSeq: Number(s.last_seq) })),
        };
      }),
    );
  }

  /** Nothing to do at once: deleted rows are invisible to every query; (auto)vacuum reclaims their space. */
  async purgeDeleted(): Promise<void> {}
}

/** Deletes the entries of these sessions; how many. (The only SQL here that touches `entries`.) */
async function deleteEntries(client: pg.PoolClient, sessionPks: readonly string[]): Promise<number> {
  const { rowCount } = await client.query('DELETE FROM entries WHERE session_pk = ANY($1)', [sessionPks]);
  return rowCount ?? 0;
}
