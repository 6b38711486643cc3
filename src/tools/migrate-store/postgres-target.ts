import type pg from 'pg';
import { createPool, quoteIdentifier, type PostgresLocation } from '../../storage/postgres/postgres-connection';
import { migratePostgres } from '../../storage/postgres/postgres-migrations';
import { toStoredText } from '../../storage/postgres/stored-text';
import { MoveRefusedError } from './move-refused';
import type { EntryRow, ParticipantRow, SessionRow } from './sqlite-source';

/**
 * The `origin` of every moved entry. PostgreSQL keeps which stream wrote an entry so that an
 * entry read back to fill a gap is not echoed to its sender; no stream of the old server survives
 * the move, so this matches none.
 */
export const MIGRATED_ORIGIN = 'migrated';

/** How long the move waits for a lock on the target's tables that a running instance holds. */
const LOCK_TIMEOUT = '10s';

/**
 * The PostgreSQL store a move writes to, on one connection, in one transaction: `begin` (after
 * the schema was created or migrated by `open`), the inserts, then `commit`; `close` without
 * `commit` rolls everything back, so the target holds all of the move or none of it.
 */
export class PostgresTarget {
  private committed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly client: pg.PoolClient,
    private readonly schema: string,
    /** The schema version the target is at. */
    readonly version: number,
  ) {}

  /** Connects to `location` and creates or migrates its schema, as an instance does at start-up. */
  static async open(location: PostgresLocation): Promise<PostgresTarget> {
    const pool = createPool(location, 1);
    try {
      const { version } = await migratePostgres(pool, location.schema);
      return new PostgresTarget(pool, await pool.connect(), location.schema, version);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  /**
   * Starts the transaction and refuses a target that holds any session. The sessions table stays
   * locked against writes until the end, so an instance started on the target meanwhile can add
   * none (its writes wait, then see the moved sessions).
   */
  async begin(): Promise<void> {
    await this.client.query('BEGIN');
    await this.client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
    await this.client.query('LOCK TABLE sessions IN EXCLUSIVE MODE');
    await this.client.query('SET LOCAL lock_timeout = 0');
    const { rows } = await this.client.query<{ n: string }>('SELECT count(*) AS n FROM sessions');
    const held = Number(rows[0]!.n);
    if (held > 0) throw new MoveRefusedError(`the target schema ${this.schema} is not empty (it holds ${held} sessions); move into an empty schema or database`);
  }

  /** Inserts sessions as they are, keys (their order of creation) included. */
  async insertSessions(sessions: readonly SessionRow[]): Promise<void> {
    const column = <K extends keyof SessionRow>(key: K) => sessions.map((s) => s[key]);
    await this.client.query(
      `INSERT INTO sessions (pk, id, customer, state, created_at, ended_at, awaiting_since, last_seq, last_entry_at, history_bytes, last_activity_at)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])`,
      [
        column('pk'), column('id'), column('customer'), column('state'), column('created_at'), column('ended_at'),
        column('awaiting_since'), column('last_seq'), column('last_entry_at'), column('history_bytes'), column('last_activity_at'),
      ],
    );
  }

  /** Inserts entries as they are; texts as PostgreSQL can hold them (stored-text.ts: U+0000). */
  async insertEntries(entries: readonly EntryRow[]): Promise<void> {
    await this.client.query(
      'INSERT INTO entries (session_pk, seq, date_ms, agent, text, origin) SELECT *, $6::text FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[])',
      [entries.map((e) => e.session_pk), entries.map((e) => e.seq), entries.map((e) => e.date_ms), entries.map((e) => e.agent), entries.map((e) => toStoredText(e.text)), MIGRATED_ORIGIN],
    );
  }

  /** Inserts the record of which agents attached to which session. */
  async insertParticipants(participants: readonly ParticipantRow[]): Promise<void> {
    await this.client.query(
      'INSERT INTO participants (session_pk, agent, first_attached_at) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])',
      [participants.map((p) => p.session_pk), participants.map((p) => p.agent), participants.map((p) => p.first_attached_at)],
    );
  }

  /**
   * Checks that the target holds exactly `expected`, moves the key sequence past the copied keys
   * (new sessions are created after the moved ones), and commits.
   */
  async commit(expected: Readonly<{ sessions: number; entries: number; participants: number }>): Promise<void> {
    const { rows } = await this.client.query<{ sessions: string; entries: string; participants: string; max_pk: string | null }>(
      `SELECT (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM entries) AS entries,
              (SELECT count(*) FROM participants) AS participants, (SELECT max(pk) FROM sessions) AS max_pk`,
    );
    const held = { sessions: Number(rows[0]!.sessions), entries: Number(rows[0]!.entries), participants: Number(rows[0]!.participants) };
    if (held.sessions !== expected.sessions || held.entries !== expected.entries || held.participants !== expected.participants) {
      throw new Error(
        `the target holds ${held.sessions} sessions, ${held.entries} entries and ${held.participants} participants after the copy, not ${expected.sessions}, ${expected.entries} and ${expected.participants}`,
      );
    }
    if (rows[0]!.max_pk !== null) {
      await this.client.query('SELECT setval(pg_get_serial_sequence($1, $2), $3)', [`${quoteIdentifier(this.schema)}.sessions`, 'pk', rows[0]!.max_pk]);
    }
    await this.client.query('COMMIT');
    this.committed = true;
  }

  /** Rolls back what was not committed, and disconnects. */
  async close(): Promise<void> {
    try {
      if (!this.committed) await this.client.query('ROLLBACK').catch(() => {});
      this.client.release();
    } finally {
      await this.pool.end();
    }
  }
}
