import type { SessionEvent, Subscription } from '../domain/event-bus';
import { SequencedDelivery } from '../domain/sequenced-delivery';

/** One local subscription: its listener behind the delivery that orders its events. */
export type LocalSubscription = Readonly<{ sessionId: string; delivery: SequencedDelivery }>;

/**
 * The streams of this process subscribed to each session, each behind a SequencedDelivery (its
 * events in order, once, after its snapshot). Each listener is isolated: one that throws is
 * reported to `onListenerError`, and the others still get the event.
 */
export class SessionSubscribers {
  /**
   * Each session's subscriptions, as an array that is replaced, never changed in place: a listener
   * may unsubscribe (itself or others) while an event is delivered, and offering, which happens
   * once per message, then needs no copy.
   */
  private readonly bySession = new Map<string, readonly LocalSubscription[]>();

  constructor(private readonly onListenerError: (error: unknown, sessionId: string) => void) {}

  /** Adds a subscription of `listener`; `onChange` runs after each offer or start (a bus may look for gaps then). */
  add(sessionId: string, listener: (event: SessionEvent) => void, onChange: (subscription: LocalSubscription) => void = () => {}): Subscription {
    const subscription: LocalSubscription = { sessionId, delivery: new SequencedDelivery(listener) };
    this.bySession.set(sessionId, [...(this.bySession.get(sessionId) ?? []), subscription]);
    const { delivery } = subscription;
    return {
      start: (afterSeq) => {
        this.isolated(subscription, () => delivery.start(afterSeq));
        onChange(subscription);
      },
      get endSeen() {
        return delivery.endSeen;
      },
      unsubscribe: () => this.remove(subscription),
    };
  }

  /** Offers `event` to every subscription of its session. */
  offer(event: SessionEvent, onChange: (subscription: LocalSubscription) => void = () => {}): void {
    const subscriptions = this.bySession.get(event.sessionId);
    if (!subscriptions) return;
    for (const subscription of subscriptions) {
      this.isolated(subscription, () => subscription.delivery.offer(event));
      onChange(subscription);
    }
  }

  /**
   * Ends every subscription of a session that no longer exists (erased while its end was not
   * heard), each at the event it waits for. One whose delivery has not started is left to the next check.
   */
  endErased(sessionId: string): void {
    for (const subscription of this.of(sessionId)) {
      const seq = subscription.delivery.expectedSeq;
      if (seq !== undefined) this.isolated(subscription, () => subscription.delivery.offer({ kind: 'ended', sessionId, seq }));
    }
  }

  /** The subscriptions of `sessionId` (empty if none). */
  of(sessionId: string): readonly LocalSubscription[] {
    return this.bySession.get(sessionId) ?? [];
  }

  /** The sessions with at least one subscription. */
  sessions(): IterableIterator<string> {
    return this.bySession.keys();
  }

  /** Sessions with at least one subscriber (leak checks). */
  get sessionCount(): number {
    return this.bySession.size;
  }

  private isolated(subscription: LocalSubscription, deliver: () => void): void {
    try {
      deliver();
    } catch (error) {
      this.onListenerError(error, subscription.sessionId);
    }
  }

  private remove(subscription: LocalSubscription): void {
    const current = this.bySession.get(subscription.sessionId);
    if (!current?.includes(subscription)) return;
    const rest = current.filter((s) => s !== subscription);
    if (rest.length === 0) this.bySession.delete(subscription.sessionId);
    else this.bySession.set(subscription.sessionId, rest);
  }
}
