import type { EventBus, SessionEvent, Subscription } from '../domain/event-bus';
import { SequencedDelivery } from '../domain/sequenced-delivery';

type Listener = (event: SessionEvent) => void;

/**
 * The event bus of a single server process: synchronous fan-out to the subscribers of a session,
 * in the order of publishing (which is the order of commit). Each listener is isolated: one that
 * throws is reported to `onListenerError` and the others still get the event, and so does the
 * publisher's caller, whose entry is already committed.
 */
export class InProcessEventBus implements EventBus {
  /**
   * Each session's subscribers, as an array that is replaced, never changed in place: a listener
   * may unsubscribe (itself or others) while an event is delivered, and publishing, which happens
   * once per message, then needs no copy.
   */
  private readonly listeners = new Map<string, readonly Listener[]>();

  constructor(private readonly onListenerError: (error: unknown, event: SessionEvent) => void) {}

  publish(event: SessionEvent): void {
    const listeners = this.listeners.get(event.sessionId);
    if (!listeners) return;
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }

  async subscribe(sessionId: string, listener: Listener): Promise<Subscription> {
    const delivery = new SequencedDelivery(listener);
    const offer: Listener = (event) => delivery.offer(event);
    this.listeners.set(sessionId, [...(this.listeners.get(sessionId) ?? []), offer]);
    return {
      start: (afterSeq) => delivery.start(afterSeq),
      get endSeen() {
        return delivery.endSeen;
      },
      unsubscribe: () => this.remove(sessionId, offer),
    };
  }

  /** Sessions with at least one subscriber (for leak checks in tests). */
  get subscribedSessionCount(): number {
    return this.listeners.size;
  }

  private remove(sessionId: string, listener: Listener): void {
    const current = this.listeners.get(sessionId);
    if (!current?.includes(listener)) return;
    const rest = current.filter((l) => l !== listener);
    if (rest.length === 0) this.listeners.delete(sessionId);
    else this.listeners.set(sessionId, rest);
  }
}
