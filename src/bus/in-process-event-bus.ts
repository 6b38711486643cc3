import type { EventBus, SessionEvent } from '../domain/event-bus';

type Listener = (event: SessionEvent) => void;

/**
 * The event bus of a single server process: synchronous fan-out to the subscribers of a session.
 * Each listener is isolated: one that throws is reported to `onListenerError` and the others still
 * get the event, and so does the publisher's caller, whose entry is already committed.
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

  subscribe(sessionId: string, listener: Listener): () => void {
    // Wrap, so that the same function subscribed twice is two subscriptions.
    const subscription: Listener = (event) => listener(event);
    this.listeners.set(sessionId, [...(this.listeners.get(sessionId) ?? []), subscription]);
    return () => {
      const current = this.listeners.get(sessionId);
      if (!current?.includes(subscription)) return;
      const rest = current.filter((l) => l !== subscription);
      if (rest.length === 0) this.listeners.delete(sessionId);
      else this.listeners.set(sessionId, rest);
    };
  }

  /** Sessions with at least one subscriber (for leak checks in tests). */
  get subscribedSessionCount(): number {
    return this.listeners.size;
  }
}
