import type pg from 'pg';
import type { SessionSubscribers } from './session-subscribers';

/** Where a session stood in the store: its last entry, and whether it has ended. */
type StoredPosition = Readonly<{ lastSeq: number; ended: boolean }>;

/** How often every subscribed session is checked against the store (a notification may be lost). */
const RECONCILE_EVERY_MS = 500;

/**
 * Checks every subscribed session against the store, periodically and after the channel
 * reconnects, and has those behind filled (`fill`). Periodically it fills only sessions still
 * behind what the store held at the previous check (an entry committed since may be on its way);
 * after a reconnection, every session behind the store now (notifications were missed). A
 * subscribed session the store no longer has was erased (the admin service): if its `ended` event
 * was missed too, its subscriptions would wait for ever, so they are ended (`erased`).
 */
export class StoreReconciler {
  private readonly timer: NodeJS.Timeout;
  private reconciling = false;
  /** Each subscribed session's position in the store at the previous periodic check. */
  private storedAtLastCheck = new Map<string, StoredPosition>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly subscribers: SessionSubscribers,
    private readonly fill: (sessionId: string) => void,
    private readonly erased: (sessionId: string) => void,
  ) {
    this.timer = setInterval(() => this.reconcile(false), RECONCILE_EVERY_MS);
    this.timer.unref();
  }

  /** Checks now, filling every session behind the store (the channel reconnected: notifications were missed). */
  afterReconnect(): void {
    this.reconcile(true);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private reconcile(afterReconnect: boolean): void {
    if (this.reconciling && !afterReconnect) return;
    const sessionIds = [...this.subscribers.sessions()];
    if (sessionIds.length === 0) {
      this.storedAtLastCheck.clear();
      return;
    }
    this.reconciling = true;
    this.pool
      .query<{ id: string; state: 'open' | 'ended'; last_seq: string }>('SELECT id, state, last_seq FROM sessions WHERE id = ANY($1)', [sessionIds])
      .then(({ rows }) => {
        const stored = new Map(rows.map((row): [string, StoredPosition] => [row.id, { lastSeq: Number(row.last_seq), ended: row.state === 'ended' }]));
        for (const [sessionId, position] of afterReconnect ? stored : this.storedAtLastCheck) {
          if (this.isBehind(sessionId, position)) this.fill(sessionId);
        }
        // Subscriptions are made to sessions read from the store first: one missing now was deleted.
        for (const sessionId of sessionIds) if (!stored.has(sessionId)) this.erased(sessionId);
        this.storedAtLastCheck = stored;
      })
      .catch(() => {}) // the database is away: the next round, or the channel's reconnection, will do
      .finally(() => (this.reconciling = false));
  }

  /** Whether a subscription of the session has yet to see an event that the store held at `position`. */
  private isBehind(sessionId: string, position: StoredPosition): boolean {
    return this.subscribers.of(sessionId).some(({ delivery }) => {
      const expected = delivery.expectedSeq;
      return expected !== undefined && (expected <= position.lastSeq || (position.ended && !delivery.endSeen));
    });
  }
}
