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
type FillRow = { state: 'open' | 'ended'; last_seq: string; seq: string | null; date_ms: string | null; agent: string | null; text: string | null; origin: string | null };

/** How long a gap may last before it is filled from the store (a notification of another instance may just be late). */
const GAP_GRACE_MS = 50;
/** How often every subscribed session is checked against the store (a notification may be lost). */
const RECONCILE_EVERY_MS = 1_000;
/** Entries read per query when filling. */
const FILL_PAGE = 1_000;

/**
 * The event bus of a deployment on PostgreSQL (SPEC §8): events reach this instance's subscribers
 * at once, and the other instances through the channel (LISTEN/NOTIFY), small entries whole and
 * others as positions. Notifications are not relied upon for correctness: a subscription that
 * sees a gap in sequence numbers, or falls behind the store (checked every second, and after the
 * channel reconnects), is filled from the store by sequence number, so delivery stays exactly
 * once and in order even when a notification is lost or late. Entries read back keep their origin
 * stream, so they are not echoed to their sender either.
 */
export class PostgresEventBus implements EventBus {
  private readonly subscribers: SessionSubscribers;
  private outgoing: WireEvent[] = [];
  private readonly fills = new Map<string, { again: boolean }>();
  private readonly gapTimers = new Map<string, NodeJS.Timeout>();
  private readonly reconciler: NodeJS.Timeout;

  constructor(
    private readonly instanceId: string,
    private readonly pool: pg.Pool,
    private readonly channel: PostgresChannel,
    private readonly reportError: (error: unknown) => void,
  ) {
    this.subscribers = new SessionSubscribers((error) => reportError(error));
    channel.onMessage((message) => this.receive(message));
    channel.onReconnect(() => this.reconcile());
    this.reconciler = setInterval(() => this.reconcile(), RECONCILE_EVERY_MS);
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

  /** Checks every subscribed session against the store, and fills those that are behind. */
  private reconcile(): void {
    const sessionIds = [...this.subscribers.sessions()];
    if (sessionIds.length === 0) return;
    this.pool
      .query<{ id: string; state: 'open' | 'ended'; last_seq: string }>('SELECT id, state, last_seq FROM sessions WHERE id = ANY($1)', [sessionIds])
      .then(({ rows }) => {
        for (const row of rows) {
          const behind = this.subscribers.of(row.id).some(({ delivery }) => {
            const expected = delivery.expectedSeq;
            return expected !== undefined && (expected <= Number(row.last_seq) || (row.state === 'ended' && !delivery.endSeen));
          });
          if (behind) this.fill(row.id);
        }
      })
      .catch(() => {}); // the database is away: the next round, or the channel's reconnection, will do
  }

  /** Offers the session's events from the store, from the earliest one a subscription still expects. One fill per session at a time. */
  private fill(sessionId: string): void {
    const running = this.fills.get(sessionId);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: false };
    this.fills.set(sessionId, state);
    void this.fillFromStore(sessionId)
      .catch(() => {}) // the database is away: the reconciler tries again
      .finally(() => {
        this.fills.delete(sessionId);
        if (state.again) this.fill(sessionId);
      });
  }

  private async fillFromStore(sessionId: string): Promise<void> {
    for (;;) {
      const expected = this.subscribers.of(sessionId).map((s) => s.delivery.expectedSeq).filter((seq) => seq !== undefined);
      if (expected.length === 0) return;
      const after = Math.min(...expected) - 1;
      const { rows } = await this.pool.query<FillRow>(
        `SELECT s.state, s.last_seq, e.seq, e.date_ms, e.agent, e.text, e.origin
           FROM sessions s LEFT JOIN entries e ON e.session_pk = s.pk AND e.seq > $2
          WHERE s.id = $1 ORDER BY e.seq LIMIT $3`,
        [sessionId, after, FILL_PAGE],
      );
      for (const row of rows) {
        if (row.seq !== null) this.subscribers.offer(entryEvent(sessionId, Number(row.seq), Number(row.date_ms), row.agent, fromStoredText(row.text!), row.origin!), this.watchGap);
      }
      const last = rows[0];
      if (rows.length < FILL_PAGE) {
        if (last?.state === 'ended') this.subscribers.offer({ kind: 'ended', sessionId, seq: Number(last.last_seq) + 1 }, this.watchGap);
        return;
      }
    }
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
