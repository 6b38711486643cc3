import type pg from 'pg';
import { ChatError } from '../../domain/chat-error';
import type { Author, Entry } from '../../domain/entry';
import { noMetrics, type Metrics } from '../../domain/metrics';
import type { EntryDraft, HistoryLimits, StoredSession, SessionStore } from '../../domain/session-store';
import { AppendBatcher } from './append-batcher';
import { unlessUnavailable } from './postgres-connection';
import { inTransaction, notOpenError, queueTime, RECORD_COLUMNS, toRecord, type StoredSessionRow } from './postgres-queries';
import { fromStoredText } from './stored-text';

type EntryRow = { seq: string; date_ms: string; agent: string | null; text: string };

/**
 * The PostgreSQL implementation of the storage port, shared by every instance of a deployment
 * (SPEC §8). Each method is one statement or one transaction; what one process ordered with its
 * single write queue on SQLite is ordered here by row locks: a session's row is locked by every
 * write to it (entries, end, queue), and takers of the queue are serialized by an advisory lock,
 * so two instances never take the same session. Entries are committed in groups (append-batcher.ts).
 * An unreachable database is `unavailable`.
 */
export class PostgresSessionStore implements SessionStore {
  private readonly appends: AppendBatcher;

  constructor(
    private readonly pool: pg.Pool,
    metrics: Pick<Metrics, 'batchCommitted'> = noMetrics,
  ) {
    this.appends = new AppendBatcher(pool, metrics);
  }

  createSession(id: string, customerId: string, now: Date, maxOpen: number): Promise<void> {
    return unlessUnavailable(() =>
      inTransaction(this.pool, async (client) => {
        // One customer's creations, on any instance, one at a time: the count below stays true until COMMIT.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`support-customer:${customerId}`]);
        const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM sessions WHERE customer = $1 AND state = 'open'", [customerId]);
        if (Number(rows[0]!.n) >= maxOpen) {
          throw new ChatError('resource-exhausted', `this customer already has ${maxOpen} open sessions; hang one up first`);
        }
        await client.query(
          `INSERT INTO sessions (id, customer, state, created_at, awaiting_since, last_activity_at) VALUES ($1, $2, 'open', $3, ${queueTime('$3')}, $3)`,
          [id, customerId, now.getTime()],
        );
      }),
    );
  }

  async findSession(id: string): Promise<StoredSession | undefined> {
    const { rows } = await unlessUnavailable(() => this.pool.query<StoredSessionRow>(`SELECT ${RECORD_COLUMNS} FROM sessions WHERE id = $1`, [id]));
    return rows[0] && toRecord(rows[0]);
  }

  async readHistory(sessionId: string, afterSeq: number, upToSeq: number, limit: number): Promise<Entry[]> {
    const { rows } = await unlessUnavailable(() =>
      this.pool.query<EntryRow>(
        'SELECT seq, date_ms, agent, text FROM entries WHERE session_pk = (SELECT pk FROM sessions WHERE id = $1) AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4',
        [sessionId, afterSeq, Math.min(upToSeq, Number.MAX_SAFE_INTEGER), limit],
      ),
    );
    return rows.map(toEntry);
  }

  appendEntry(sessionId: string, draft: EntryDraft, now: Date, limits: HistoryLimits): Promise<Entry> {
    return unlessUnavailable(() => this.appends.append(sessionId, draft, now, limits));
  }

  endSession(sessionId: string, now: Date): Promise<{ lastSeq: number }> {
    return unlessUnavailable(() =>
      inTransaction(this.pool, async (client) => {
        const ended = await this.end(client, sessionId, now, 'TRUE', []);
        if (!ended) throw await notOpenError(client, sessionId);
        return ended;
      }),
    );
  }

  endIdleSession(sessionId: string, cutoff: Date, now: Date): Promise<{ lastSeq: number } | undefined> {
    // Idle: nothing since the cutoff, and no customer stream attached on any instance.
    const idle = `GREATEST(last_activity_at, COALESCE(last_entry_at, 0)) <= $3
      AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.session_pk = sessions.pk AND a.role = 'customer')`;
    return unlessUnavailable(() => inTransaction(this.pool, (client) => this.end(client, sessionId, now, idle, [cutoff.getTime()])));
  }

  takeNextAwaiting(): Promise<string | undefined> {
    // Not FOR UPDATE SKIP LOCKED: a session's row is also locked by each of its entries' writes, so
    // a taker would skip a waiting session whose customer is typing. Takers of every instance
    // queue on an advisory lock instead (a take is one short transaction), and wait for such a
    // row. A row that stopped waiting during that wait drops out of LIMIT 1: then look again.
    return unlessUnavailable(() =>
      inTransaction(this.pool, async (client) => {
        await client.query("SELECT pg_advisory_xact_lock(hashtext('support-queue:' || current_schema()))");
        for (let attempt = 0; attempt < 5; attempt++) {
          const { rows } = await client.query<{ pk: string }>(
            "SELECT pk FROM sessions WHERE state = 'open' AND awaiting_since IS NOT NULL ORDER BY awaiting_since, pk LIMIT 1 FOR UPDATE",
          );
          if (rows[0]) {
            const taken = await client.query<{ id: string }>('UPDATE sessions SET awaiting_since = NULL WHERE pk = $1 RETURNING id', [rows[0].pk]);
            return taken.rows[0]!.id;
          }
          const { rowCount } = await client.query("SELECT 1 FROM sessions WHERE state = 'open' AND awaiting_since IS NOT NULL LIMIT 1");
          if (!rowCount) return undefined;
        }
        return undefined;
      }),
    );
  }

  markAttended(sessionId: string, agentId: string, now: Date): Promise<StoredSession> {
    // The participant is recorded in the same statement (a data-modifying CTE runs whatever the outer query reads).
    const recordParticipant = `WITH attended AS (UPDATE sessions SET awaiting_since = NULL WHERE id = $1 AND state = 'open' RETURNING pk, ${RECORD_COLUMNS}),
      participant AS (INSERT INTO participants (session_pk, agent, first_attached_at) SELECT pk, $2, $3 FROM attended ON CONFLICT DO NOTHING)
      SELECT ${RECORD_COLUMNS} FROM attended`;
    return unlessUnavailable(() =>
      inTransaction(this.pool, async (client) => {
        const { rows } = await client.query<StoredSessionRow>(recordParticipant, [sessionId, agentId, now.getTime()]);
        if (!rows[0]) throw await notOpenError(client, sessionId);
        return toRecord(rows[0]);
      }),
    );
  }

  markAwaiting(sessionId: string, now: Date): Promise<void> {
    return unlessUnavailable(async () => {
      await this.pool.query(`UPDATE sessions SET awaiting_since = ${queueTime('$2')} WHERE id = $1 AND state = 'open'`, [sessionId, now.getTime()]);
    });
  }

  recordCustomerPresence(sessionIds: readonly string[], now: Date): Promise<void> {
    return unlessUnavailable(async () => {
      await this.pool.query(
        "UPDATE sessions SET last_activity_at = GREATEST(last_activity_at, $2) WHERE id = ANY($1) AND state = 'open'",
        [sessionIds, now.getTime()],
      );
    });
  }

  async findIdleSessions(cutoff: Date, limit: number): Promise<string[]> {
    const { rows } = await unlessUnavailable(() =>
      this.pool.query<{ id: string }>(
        "SELECT id FROM sessions WHERE state = 'open' AND GREATEST(last_activity_at, COALESCE(last_entry_at, 0)) <= $1 LIMIT $2",
        [cutoff.getTime(), limit],
      ),
    );
    return rows.map((row) => row.id);
  }

  /** Ends the open session if `condition` holds ($1 id, $2 now, then `parameters`); its streams' attendance goes with it. */
  private async end(client: pg.PoolClient, sessionId: string, now: Date, condition: string, parameters: unknown[]): Promise<{ lastSeq: number } | undefined> {
    const { rows } = await client.query<{ pk: string; last_seq: string }>(
      `UPDATE sessions SET state = 'ended', ended_at = $2, awaiting_since = NULL WHERE id = $1 AND state = 'open' AND ${condition} RETURNING pk, last_seq`,
      [sessionId, now.getTime(), ...parameters],
    );
    if (!rows[0]) return undefined;
    await client.query('DELETE FROM attendance WHERE session_pk = $1', [rows[0].pk]);
    return { lastSeq: Number(rows[0].last_seq) };
  }
}

function toEntry(row: EntryRow): Entry {
  const author: Author = row.agent === null ? { kind: 'customer' } : { kind: 'agent', agentId: row.agent };
  return { seq: Number(row.seq), date: new Date(Number(row.date_ms)), author, text: fromStoredText(row.text) };
}
