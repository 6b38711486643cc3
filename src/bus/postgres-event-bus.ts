import type pg from 'pg';
import { ChatError } from '../domain/chat-error';
import type { EventBus, SessionEvent, Subscription } from '../domain/event-bus';
import { MAX_PAYLOAD_BYTES, type PostgresChannel } from '../storage/postgres/postgres-channel';
import { entryEvent, isEventsMessage, toChannelEvent, toMessages, type ChannelEvent } from './channel-events';
import { SessionSubscribers, type LocalSubscription } from './session-subscribers';
import { StoreFill } from './store-fill';
import { StoreReconciler } from './store-reconciler';

/** How long a gap may last before it is filled from the store (a notification of another instance may just be late). */
const GAP_GRACE_MS = 50;

/**
 * The event bus of a deployment on PostgreSQL (SPEC §8): events reach this instance's subscribers
 * at once, and the other instances through the channel (LISTEN/NOTIFY), small entries whole and
 * others as positions (channel-events.ts). Notifications are not relied upon for correctness: a
 * subscription that sees a gap in sequence numbers, or falls behind the store, is filled from the
 * store by sequence number (store-fill.ts), so delivery stays exactly once and in order even when
 * a notification is lost or late. Entries read back keep their origin stream, so they are not
 * echoed to their sender either.
 *
 * Filling is kept for what notifications did not bring: a gap is given GAP_GRACE_MS to close, and
 * the periodic check (store-reconciler.ts) fills only sessions that stay behind the store.
 */
export class PostgresEventBus implements EventBus {
  private readonly subscribers: SessionSubscribers;
  private readonly storeFill: StoreFill;
  private readonly reconciler: StoreReconciler;
  private outgoing: ChannelEvent[] = [];
  private readonly gapTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly instanceId: string,
    pool: pg.Pool,
    private readonly channel: PostgresChannel,
    reportError: (error: unknown) => void,
  ) {
    this.subscribers = new SessionSubscribers((error) => reportError(error));
    this.storeFill = new StoreFill(pool, this.subscribers, (event) => this.subscribers.offer(event, this.watchGap));
    this.reconciler = new StoreReconciler(pool, this.subscribers, (sessionId) => this.storeFill.fill(sessionId), (sessionId) => this.subscribers.endErased(sessionId));
    channel.onMessage((message) => this.receive(message));
    channel.onReconnect(() => this.reconciler.afterReconnect());
  }

  publish(event: SessionEvent): void {
    this.subscribers.offer(event, this.watchGap);
    if (this.outgoing.length === 0) setImmediate(() => this.sendOutgoing());
    this.outgoing.push(toChannelEvent(event));
  }

  async subscribe(sessionId: string, listener: (event: SessionEvent) => void): Promise<Subscription> {
    // Without the channel, live events of other instances would arrive only through the reconciler.
    if (!this.channel.live) throw new ChatError('unavailable', 'the database is unavailable; try again shortly');
    return this.subscribers.add(sessionId, listener, this.watchGap);
  }

  /** Stops the reconciler and the pending fills (the channel and the pool are closed by their owner). */
  close(): void {
    this.reconciler.stop();
    for (const timer of this.gapTimers.values()) clearTimeout(timer);
    this.gapTimers.clear();
  }

  /** Sessions with at least one subscriber (leak checks). */
  get subscribedSessionCount(): number {
    return this.subscribers.sessionCount;
  }

  /** Sends the events published in this turn, as few notifications as fit them. */
  private sendOutgoing(): void {
    const events = this.outgoing;
    this.outgoing = [];
    for (const message of toMessages(this.instanceId, events, MAX_PAYLOAD_BYTES)) this.channel.send(message);
  }

  private receive(message: unknown): void {
    if (!isEventsMessage(message) || message.i === this.instanceId) return; // this instance's own were delivered at publish
    for (const event of message.e) {
      const [sessionId, seq] = event;
      if (this.subscribers.of(sessionId).length === 0) continue;
      if (event[2] === 'e') this.subscribers.offer(entryEvent(sessionId, seq, event[3], event[4], event[5], event[6]), this.watchGap);
      else if (event[2] === 'x') this.subscribers.offer({ kind: 'ended', sessionId, seq }, this.watchGap);
      else this.storeFill.fill(sessionId);
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
        if (this.subscribers.of(sessionId).some((s) => s.delivery.waitingFrom !== undefined)) this.storeFill.fill(sessionId);
      }, GAP_GRACE_MS),
    );
  };
}
