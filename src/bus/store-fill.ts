import type pg from 'pg';
import type { SessionEvent } from '../domain/event-bus';
import { fromStoredText } from '../storage/postgres/stored-text';
import { entryEvent } from './channel-events';
import type { SessionSubscribers } from './session-subscribers';

type FillRow = { id: string; state: 'open' | 'ended'; last_seq: string; seq: string | null; date_ms: string | null; agent: string | null; text: string | null; origin: string | null };

/** Most sessions filled by one query, most entries read per session and per query. */
const FILL_SESSIONS = 100;
const FILL_PAGE = 1_000;
const FILL_ROWS = 5_000;

/**
 * Reads from the store the events that subscriptions expect and notifications did not bring, by
 * sequence number. The sessions to fill are read together, one query for many: under load many
 * gaps open at once, and a query each would take the pool from the appends and make every
 * notification later still.
 */
export class StoreFill {
  /** Sessions to fill, and whether a fill is under way (one at a time). */
  private readonly toFill = new Set<string>();
  private filling = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly subscribers: SessionSubscribers,
    private readonly offer: (event: SessionEvent) => void,
  ) {}

  /** Has the session's events read from the store, with the others asked for in this turn. */
  fill(sessionId: string): void {
    this.toFill.add(sessionId);
    if (this.filling) return;
    this.filling = true;
    setImmediate(() => void this.fillAll());
  }

  /** Fills the sessions asked for, many per query, until none is left. */
  private async fillAll(): Promise<void> {
    try {
      while (this.toFill.size > 0) {
        const sessionIds = [...this.toFill].slice(0, FILL_SESSIONS);
        for (const sessionId of sessionIds) this.toFill.delete(sessionId);
        for (const unfinished of await this.fillFromStore(sessionIds)) this.toFill.add(unfinished);
      }
    } catch {
      this.toFill.clear(); // the database is away: the reconciler tries again
    } finally {
      this.filling = false;
    }
  }

  /**
   * Offers each session's events from the store, from the earliest one a subscription still
   * expects, one page of them; returns the sessions that have more.
   */
  private async fillFromStore(sessionIds: readonly string[]): Promise<string[]> {
    const wanted = sessionIds.flatMap((sessionId) => {
      const expected = this.subscribers.of(sessionId).map((s) => s.delivery.expectedSeq).filter((seq) => seq !== undefined);
      return expected.length === 0 ? [] : [{ sessionId, after: Math.min(...expected) - 1 }];
    });
    if (wanted.length === 0) return [];
    const page = Math.min(FILL_PAGE, Math.floor(FILL_ROWS / wanted.length));
    const { rows } = await this.pool.query<FillRow>(
      `SELECT w.id, s.state, s.last_seq, e.seq, e.date_ms, e.agent, e.text, e.origin
         FROM unnest($1::text[], $2::bigint[]) AS w(id, after)
         JOIN sessions s ON s.id = w.id
         LEFT JOIN LATERAL (SELECT seq, date_ms, agent, text, origin FROM entries WHERE session_pk = s.pk AND seq > w.after ORDER BY seq LIMIT $3) e ON TRUE
        ORDER BY w.id, e.seq`,
      [wanted.map((w) => w.sessionId), wanted.map((w) => w.after), page],
    );
    const unfinished: string[] = [];
    for (let i = 0; i < rows.length; ) {
      const { id: sessionId, state, last_seq: lastSeq } = rows[i]!;
      let read = 0;
      for (; i < rows.length && rows[i]!.id === sessionId; i++) {
        const row = rows[i]!;
        if (row.seq === null) continue;
        read++;
        this.offer(entryEvent(sessionId, Number(row.seq), Number(row.date_ms), row.agent, fromStoredText(row.text!), row.origin!));
      }
      if (read === page) unfinished.push(sessionId);
      else if (state === 'ended') this.offer({ kind: 'ended', sessionId, seq: Number(lastSeq) + 1 });
    }
    return unfinished;
  }
}
