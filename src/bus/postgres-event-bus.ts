import type pg from 'pg';
import { ChatError } from '../domain/chat-error';
import type { Author } from '../domain/entry';
import type { EventBus, SessionEvent, Subscription } from '../domain/event-bus';
import { MAX_PAYLOAD_BYTES, type PostgresChannel } from '../storage/postgres/postgres-channel';
import { fromStoredText } from '../storage/postgres/stored-text';
import { SessionSubscribers, type LocalSubscription } from './session-subscribers';

/** An event on the channel: an entry with all it needs, an end, or only a position (read it from the store). */
type WireEvent = [sessionId: string, seq: number, kind: 'e', dateMs: number, agent: string | null, text: string, origin: string] | [sessionId: string, seq: number, kind: 'x' | 'p'];
type EventsMessage = { t: 'events'; i: string; e: WireEvent[] };
type FillRow = { id: string; state: 'open' | 'ended'; last_seq: string; seq: string | null; date_ms: string | null; agent: string | null; text: string | null; origin: string | null };
/** Where a session stood in the store: its last entry, and whether it has ended. */
type StoredPosition = Readonly<{ lastSeq: number; ended: boolean }>;

/** How long a gap may last before it is filled from the store (a notification of another instance may just be late). */
const GAP_GRACE_MS = 50;
/** How often every subscribed session is checked against the store (a notification may be lost). */
const RECONCILE_EVERY_MS = 500;
/** Most sessions filled by one query, most entries read per session and per query. */
const FILL_SESSIONS = 100;
const FILL_PAGE = 1_000;
const FILL_ROWS = 5_000;

/**
 * The event bus of a deployment on PostgreSQL (SPEC §8): events reach this instance's subscribers
 * at once, and the other instances through the channel (LISTEN/NOTIFY), small entries whole and
 * others as positions. Notifications are not relied upon for correctness: a subscription that
 * sees a gap in sequence numbers, or falls behind the store, is filled from the store by sequence
 * number, so delivery stays exactly once and in order even when a notification is lost or late.
 * Entries read back keep their origin stream, so they are not echoed to their sender either.
 *
 * Filling is kept for what notifications did not bring: a gap is given GAP_GRACE_MS to close; the
 * periodic check fills only sessions still behind what the store held at the previous check (an
 * entry committed since may be on its way), and after the channel reconnects, every session
 * behind the store now (notifications were missed). The sessions to fill are read together, one
 * query for many: under load many gaps open at once, and a query each would take the pool from
 * the appends and make every notification later still.
 */
export class PostgresEventBus implements EventBus {
  private readonly subscribers: SessionSubscribers;
  private outgoing: WireEvent[] = [];
  /** Sessions to fill from the store, and whether a fill is under way (one at a time). */
  private readonly toFill = new Set<string>();
  private filling = false;
  private readonly gapTimers = new Map<string, NodeJS.Timeout>();
  private readonly reconciler: NodeJS.Timeout;
  private reconciling = false;
  /** Each subscribed session's position in the store at the previous periodic check. */
  private storedAtLastCheck = new Map<string, StoredPosition>();

  constructor(
    private readonly instanceId: string,
    private readonly pool: pg.Pool,
    private readonly channel: PostgresChannel,
    private readonly reportError: (error: unknown) => void,
  ) {
    this.subscribers = new SessionSubscribers((error) => reportError(error));
    channel.onMessage((message) => this.receive(message));
    channel.onReconnect(() => this.reconcile(true));
    this.reconciler = setInterval(() => this.reconcile(false), RECONCILE_EVERY_MS);
    this.reconciler.unref();
  }

  publish(event: SessionEvent): void {
    this.subscribers.offer(event, this.watchGap);
    if (this.outgoing.length === 0) setImmediate(() => this.sendOutgoing());
    this.outgoing.push(toWire(event));
  }

  async subscribe(sessionId: string, listener: (event: SessionEvent) => void): Promise<Subscription> {
    // Without the channel, live events of other instances would arrive only through the reconciler.
    if (!this.channel.live) throw new ChatError('unavailable', 'the database is unavailable; try again shortly');
    return this.subscribers.add(sessionId, listener, this.watchGap);
  }

  /** Stops the reconciler and the pending fills (the channel and the pool are closed by their owner). */
  close(): void {
    clearInterval(this.reconciler);
    for (const timer of this.gapTimers.values()) clearTimeout(timer);
    this.gapTimers.clear();
  }

  /** Sessions with at least one subscriber (leak checks). */
  get subscribedSessionCount(): number {
    return this.subscribers.sessionCount;
  }

  private sendOutgoing(): void {
    const events = this.outgoing;
    this.outgoing = [];
    let batch: WireEvent[] = [];
    let bytes = 0;
    for (const event of events) {
      const size = Buffer.byteLength(JSON.stringify(event)) + 1;
      const wire: WireEvent = size > MAX_PAYLOAD_BYTES - 100 ? [event[0], event[1], 'p'] : event;
      const wireSize = wire === event ? size : 60;
      if (bytes + wireSize > MAX_PAYLOAD_BYTES - 100 && batch.length > 0) {
        this.channel.send({ t: 'events', i: this.instanceId, e: batch } satisfies EventsMessage);
        batch = [];
        bytes = 0;
      }
      batch.push(wire);
      bytes += wireSize;
    }
    if (batch.length > 0) this.channel.send({ t: 'events', i: this.instanceId, e: batch } satisfies EventsMessage);
  }

  private receive(message: unknown): void {
    if (!isEventsMessage(message) || message.i === this.instanceId) return; // this instance's own were delivered at publish
    for (const wire of message.e) {
      const [sessionId, seq, kind] = wire;
      if (this.subscribers.of(sessionId).length === 0) continue;
      if (kind === 'p') this.fill(sessionId);
      else if (kind === 'x') this.subscribers.offer({ kind: 'ended', sessionId, seq }, this.watchGap);
      else this.subscribers.offer(entryEvent(sessionId, seq, wire[3]!, wire[4]!, wire[5]!, wire[6]!), this.watchGap);
    }
  }

  /** After an offer or a start: a subscription waiting behind a missing event gets it from the store, unless it comes meanwhile. */
  private readonly watchGap = (subscription: LocalSubscription): void => {
    if (subscription.delivery.waitingFrom === undefined || this.gapTimers.has(subscription.sessionId)) return;
    const { sessionId } = subscription;
    this.gapTimers.set(
      sessionId,
      setTimeout(() => {
        this.gapTimers.delete(sessionId);
        if (this.subscribers.of(sessionId).some((s) => s.delivery.waitingFrom !== undefined)) this.fill(sessionId);
      }, GAP_GRACE_MS),
    );
  };

  /**
   * Checks every subscribed session against the store; fills those behind what it held at the
   * previous check, or, after the channel reconnected, behind what it holds now.
   */
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

  /** Has the session's events read from the store (see fillAll), with the others asked for in this turn. */
  private fill(sessionId: string): void {
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
        this.subscribers.offer(entryEvent(sessionId, Number(row.seq), Number(row.date_ms), row.agent, fromStoredText(row.text!), row.origin!), this.watchGap);
      }
      if (read === page) unfinished.push(sessionId);
      else if (state === 'ended') this.subscribers.offer({ kind: 'ended', sessionId, seq: Number(lastSeq) + 1 }, this.watchGap);
    }
    return unfinished;
  }
}

function toWire(event: SessionEvent): WireEvent {
  if (event.kind === 'ended') return [event.sessionId, event.seq, 'x'];
  const { entry } = event;
  return [event.sessionId, event.seq, 'e', entry.date.getTime(), entry.author.kind === 'agent' ? entry.author.agentId : null, entry.text, event.origin];
}

function entryEvent(sessionId: string, seq: number, dateMs: number, agent: string | null, text: string, origin: string): SessionEvent {
  const author: Author = agent === null ? { kind: 'customer' } : { kind: 'agent', agentId: agent };
  return { kind: 'entry', sessionId, seq, origin, entry: { seq, date: new Date(dateMs), author, text } };
}

function isEventsMessage(message: unknown): message is EventsMessage {
  return typeof message === 'object' && message !== null && (message as { t?: unknown }).t === 'events' && Array.isArray((message as { e?: unknown }).e);
}
